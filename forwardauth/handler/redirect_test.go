package handler

import "testing"

func TestReturnURLCheck(t *testing.T) {
	r := newRedirects(nil, "example.com", "auth.example.com")
	tests := []struct {
		rd string
		ok bool
	}{
		{"https://plex.example.com/web/index.html", true},
		{"https://example.com/", true},
		{"https://PLEX.Example.com:32400/web?x=1#y", true},
		{"http://plex.example.com/", true},
		{"https://auth.example.com/", true},
		{"//evil.com/", false},
		{"///evil.com/", false},
		{"/relative/path", false},
		{"https:/evil.com", false},
		{"https:\\\\evil.com", false},
		{"https://plex.example.com\\@evil.com/", false},
		{"https://evil.com\\.example.com/", false},
		{"https://user:pw@plex.example.com/", false},
		{"https://plex.example.com@evil.com/", false},
		{"https://example.com.evil.com/", false},
		{"https://evilexample.com/", false},
		{"https://evil.com/?rd=https://plex.example.com", false},
		{"https://evil.com#.example.com", false},
		{"https://evil.com%2f.example.com/", false},
		{"https://evil.com%252f.example.com/", false},
		{"https%3A%2F%2Fevil.com", false},
		{"https://plex.example.com%2eevil.com/", false},
		{"https://plex.example.com/\r\nSet-Cookie:x=y", false},
		{"https://plex.example.com/%0d%0aLocation:evil", true}, // still-encoded bytes stay in the path
		{"https://plex.example.com/\x00", false},
		{"https://plex.example.com/a b", false},
		{" https://plex.example.com/", false},
		{"javascript:alert(1)//.example.com", false},
		{"data:text/html,hi", false},
		{"ftp://plex.example.com/", false},
		{"HTTPS://plex.example.com/", true},
		{"https://plex.example.com:abc/", false},
		{"https://[::1]/", false},
		{"https://plex.example.com./", false},
		{"https://xn--exmple-cua.com/", false},
		{"https://plëx.example.com/", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.rd, func(t *testing.T) {
			_, err := r.check(tt.rd)
			if (err == nil) != tt.ok {
				t.Fatalf("check(%q) err=%v, want ok=%v", tt.rd, err, tt.ok)
			}
		})
	}
}

func TestExplicitAllowedDomains(t *testing.T) {
	r := newRedirects([]string{"plex.example.org", "*.media.example.net"}, "example.com", "auth.example.com")
	tests := []struct {
		rd string
		ok bool
	}{
		{"https://plex.example.org/", true},
		{"https://sub.plex.example.org/", false},
		{"https://tv.media.example.net/", true},
		{"https://media.example.net/", false},
		{"https://plex.example.com/", false},
		{"https://auth.example.com/signed-out", true},
	}
	for _, tt := range tests {
		if _, err := r.check(tt.rd); (err == nil) != tt.ok {
			t.Errorf("check(%q) err=%v, want ok=%v", tt.rd, err, tt.ok)
		}
	}
}
