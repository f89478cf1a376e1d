package console_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/verifykit/verifykit/adapters/console"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification"
)

// Mount the console under /console/ of a host's mux, next to the host's own routes, and
// fetch its sign-in page.
func Example() {
	tokens := memory.NewTokens() // the host's ports.TokenVerifier, shared with its services
	profiles := memory.NewProfileStore()
	resets, err := identification.NewProfileService(identification.ProfileDeps{
		Profiles: profiles, ResetRequests: profiles.ResetRequests(), Tokens: tokens,
	}, identification.DefaultProfileConfig())
	if err != nil {
		panic(err)
	}
	ui, err := console.New(console.Services{Profiles: resets}, console.Options{
		BasePath: "/console/", Tokens: tokens, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/console/", ui)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })

	srv := httptest.NewServer(mux)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/console/signin")
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, res.Header.Get("Content-Type"))
	fmt.Println(res.Header.Get("X-Content-Type-Options"), res.Header.Get("Referrer-Policy"))
	fmt.Println(strings.Contains(string(body), `<form method="post" action="/console/signin"`))
	// Output:
	// 200 text/html; charset=utf-8
	// nosniff no-referrer
	// true
}
