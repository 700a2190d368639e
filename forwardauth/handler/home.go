package handler

import "net/http"

// handleHome shows whether the visitor is signed in.
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.authenticate(r); ok {
		writePage(w, http.StatusOK, pageData{Title: "Signed in", Message: "You are signed in.", Link: s.path("/logout"), LinkText: "Sign out"})
		return
	}
	writePage(w, http.StatusOK, pageData{Title: "Not signed in", Message: "You are not signed in.", Link: s.path("/login"), LinkText: "Sign in"})
}

func (s *Server) handleSignedOut(w http.ResponseWriter, _ *http.Request) {
	writePage(w, http.StatusOK, pageData{Title: "Signed out", Message: "You are signed out."})
}
