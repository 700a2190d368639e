package e2e

import (
	"testing"

	"github.com/plexgate/plexgate/e2e/harness"
)

// Scenario 1: Traefik obtains the Plex host's certificate from Pebble over
// ACME and serves the same certificate on websecure (443) and plex (32400).
func TestACMECertificateIsServedOnWebsecureAndPlexEntrypoints(t *testing.T) {
	onWebsecure, err := stack.Traefik.AwaitCertificate(t.Context(), stack.WebsecureAddr(), harness.PlexHost, stack.Pebble.Root)
	if err != nil {
		t.Fatal(err)
	}
	onPlex, err := stack.Traefik.AwaitCertificate(t.Context(), stack.PlexEntrypointAddr(), harness.PlexHost, stack.Pebble.Root)
	if err != nil {
		t.Fatal(err)
	}
	if onWebsecure.SerialNumber.Cmp(onPlex.SerialNumber) != 0 {
		t.Fatalf("websecure serves serial %x, plex entrypoint serial %x; want the same certificate", onWebsecure.SerialNumber, onPlex.SerialNumber)
	}
	if err := onWebsecure.VerifyHostname(harness.PlexHost); err != nil {
		t.Fatal(err)
	}
	// AwaitCertificate verified the chain against Pebble's root; also make
	// sure it is not some other certificate that happens to chain there.
	if onWebsecure.Issuer.CommonName == onWebsecure.Subject.CommonName {
		t.Fatalf("self-signed certificate %q", onWebsecure.Subject.CommonName)
	}
	t.Logf("certificate serial %x issued by %q", onWebsecure.SerialNumber, onWebsecure.Issuer.CommonName)
}
