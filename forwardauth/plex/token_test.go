package plex

import (
	"net/http"
	"net/url"
	"testing"
)

func TestExtractFindsEveryForm(t *testing.T) {
	nested := "/photo/:/transcode?width=300&url=" + url.QueryEscape("/library/metadata/1/thumb/2?X-Plex-Token=tok123")
	tests := []struct {
		name   string
		header []string
		uri    string
		want   string
	}{
		{"none", nil, "/web/index.html", ""},
		{"no query mention", nil, "/library/sections?type=1&sort=title", ""},
		{"header", []string{"tok123"}, "/library/sections", "tok123"},
		{"query", nil, "/library/sections?X-Plex-Token=tok123", "tok123"},
		{"query name in other case", nil, "/library/sections?x-plex-token=tok123", "tok123"},
		{"query after other params", nil, "/:/websockets/notifications?filters=a&X-Plex-Token=tok123", "tok123"},
		{"nested url=", nil, nested, "tok123"},
		{"nested twice", nil, "/a?url=" + url.QueryEscape("/b?url="+url.QueryEscape("/c?X-Plex-Token=tok123")), "tok123"},
		{"nested key hidden by one more escape", nil, "/a?url=" + url.QueryEscape("/b?%58-Plex-Token=tok123"), "tok123"},
		{"header and query agree", []string{"tok123"}, "/x?X-Plex-Token=tok123", "tok123"},
		{"header, query and nested agree", []string{"tok123"}, nested + "&X-Plex-Token=tok123", "tok123"},
		{"fragment ignored", nil, "/x?X-Plex-Token=tok123#frag", "tok123"},
		{"jwt-shaped token", []string{"eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2ln"}, "/x", "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2ln"},
		{"transient token", nil, "/x?X-Plex-Token=transient-1b2c3d4e-aaaa-bbbb-cccc-0123456789ab", "transient-1b2c3d4e-aaaa-bbbb-cccc-0123456789ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.header {
				h.Add(TokenParam, v)
			}
			got, err := Extract(h, tt.uri)
			if err != nil || got != tt.want {
				t.Fatalf("Extract = %q, %v; want %q, nil", got, err, tt.want)
			}
		})
	}
}

func TestExtractRefusesConflictsAndMalformedTokens(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		uri    string
		want   error
	}{
		{"two headers", []string{"tokA", "tokB"}, "/x", ErrConflict},
		{"header vs query", []string{"tokA"}, "/x?X-Plex-Token=tokB", ErrConflict},
		{"two query params", nil, "/x?X-Plex-Token=tokA&X-Plex-Token=tokB", ErrConflict},
		{"query vs other case", nil, "/x?X-Plex-Token=tokA&x-plex-token=tokB", ErrConflict},
		{"query vs nested", nil, "/x?X-Plex-Token=tokA&url=" + url.QueryEscape("/y?X-Plex-Token=tokB"), ErrConflict},
		{"header vs nested key hidden by escaping", []string{"tokA"}, "/a?url=" + url.QueryEscape("/b?%58-Plex-Token=tokB"), ErrConflict},
		{"empty query token", nil, "/x?X-Plex-Token=", ErrMalformed},
		{"empty header", []string{""}, "/x", ErrMalformed},
		{"comma in header", []string{"tokA,tokB"}, "/x", ErrMalformed},
		{"space in header", []string{"tok A"}, "/x", ErrMalformed},
		{"control character", []string{"tok\x00A"}, "/x", ErrMalformed},
		{"too long", []string{string(make([]byte, MaxTokenLen+1))}, "/x", ErrMalformed},
		{"bad escape next to a token", nil, "/x?X-Plex-Token=tokA&b=%zz", ErrMalformed},
		{"double-encoded into a name", nil, "/x?" + url.QueryEscape("X-Plex-Token=tokA") + "=1", ErrMalformed},
		{"nested too deep", nil, deepNest(maxNesting + 2), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.header {
				h.Add(TokenParam, v)
			}
			got, err := Extract(h, tt.uri)
			if err != tt.want || got != "" {
				t.Fatalf("Extract = %q, %v; want \"\", %v", got, err, tt.want)
			}
		})
	}
}

func TestExtractReadsNestingUpToTheLimit(t *testing.T) {
	got, err := Extract(http.Header{}, deepNest(maxNesting))
	if err != nil || got != "tok123" {
		t.Fatalf("Extract = %q, %v; want tok123", got, err)
	}
}

// deepNest returns a URI whose token sits n url= levels deep.
func deepNest(n int) string {
	u := "/z?X-Plex-Token=tok123"
	for range n {
		u = "/n?url=" + url.QueryEscape(u)
	}
	return u
}
