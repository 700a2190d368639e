package plugin_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/plexgate/plexgate/plugin"
)

// Traefik builds the middleware like this: the defaults from CreateConfig,
// overwritten by the dynamic configuration, then New in front of the next
// handler.
func ExampleNew() {
	cfg := plugin.CreateConfig()
	cfg.ValidateURL = "http://forwardauth:4181/validate"
	cfg.JWKSURL = "http://forwardauth:4181/.well-known/jwks.json"
	cfg.Issuer = "https://auth.example.com"
	plex := http.NotFoundHandler()

	gate, err := plugin.New(context.Background(), plex, cfg, "plexgate")
	fmt.Println(gate != nil, err)

	cfg.CacheTTL = "soon"
	_, err = plugin.New(context.Background(), plex, cfg, "plexgate")
	fmt.Println(err)
	// Output:
	// true <nil>
	// plexgate: invalid configuration: CacheTTL must be a duration such as "30s" or "5m", got "soon"
}
