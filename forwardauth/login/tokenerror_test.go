package login

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSafeTextBoundsOnARuneBoundaryAndDropsUnprintables(t *testing.T) {
	cases := []struct{ in, want string }{
		{"invalid_grant", "invalid_grant"},
		{"line\r\nbreak\x00and\x1b[31mcolour", "linebreakand[31mcolour"},
		{"right\u202eto-left override", "rightto-left override"},
		{"bad \xff byte", "bad  byte"},
		{"  Scope 'groups' not allowed.  ", "Scope 'groups' not allowed."},
	}
	for _, c := range cases {
		if got := SafeText(c.in); got != c.want {
			t.Errorf("SafeText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, in := range []string{strings.Repeat("é", 1000), "a" + strings.Repeat("€", 1000), strings.Repeat("x", 60<<10)} {
		got := SafeText(in)
		if !utf8.ValidString(got) || len(got) > MaxText+len("…") || !strings.HasSuffix(got, "…") || len(got) < MaxText-3 {
			t.Errorf("SafeText of %d bytes: %d bytes, valid UTF-8 %v, %.20q…", len(in), len(got), utf8.ValidString(got), got)
		}
	}
}
