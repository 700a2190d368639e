package plex

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzExtract holds Extract to its contract on arbitrary input: it never
// panics, a token it returns is well formed and equals every header value,
// and a request whose header and query carry different tokens never yields
// either of them.
func FuzzExtract(f *testing.F) {
	f.Add("tok123", "/library?X-Plex-Token=tok123")
	f.Add("", "/photo/:/transcode?url=%2Flibrary%3FX-Plex-Token%3Dtok123")
	f.Add("a", "/x?x-plex-token=b")
	f.Add("", "/x?url=%2Fb%3F%2558-Plex-Token%3Dt&X-Plex-Token=t")
	f.Add("transient-abc", "/x?%zz&X-Plex-Token=transient-abc")
	f.Fuzz(func(t *testing.T, header, uri string) {
		h := http.Header{}
		if header != "" {
			h.Set(TokenParam, header)
		}
		tok, err := Extract(h, uri)
		if err != nil {
			if tok != "" {
				t.Fatalf("token %q returned with error %v", tok, err)
			}
			return
		}
		if tok == "" {
			if header != "" {
				t.Fatalf("header %q present but no token and no error", header)
			}
			return
		}
		if !validToken(tok) {
			t.Fatalf("malformed token %q returned", tok)
		}
		if header != "" && tok != header {
			t.Fatalf("token %q differs from header %q", tok, header)
		}
		// Appending a different, valid token must make the request a conflict.
		other := tok + "x"
		if len(other) <= MaxTokenLen {
			base, _, _ := strings.Cut(uri, "#")
			sep := "?"
			if strings.Contains(base, "?") {
				sep = "&"
			}
			if _, err := Extract(h, base+sep+TokenParam+"="+url.QueryEscape(other)); err == nil {
				t.Fatalf("adding %q to %q was not refused", other, uri)
			}
		}
	})
}
