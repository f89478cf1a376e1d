// Package client is a typed Go client of verifykit's HTTP API (adapters/httpapi), generated
// from the OpenAPI document adapters/httpapi/openapi.json with oapi-codegen v2 (the version
// go.mod pins as a tool).
//
// Build one with NewClientWithResponses and the server's base URL; add the bearer token
// with a RequestEditorFn. Each operation has a method that returns its parsed answer, with
// a typed field per documented status (JSON200, JSON201, JSON422, ...):
//
//	c, err := client.NewClientWithResponses("http://127.0.0.1:8080",
//		client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
//			r.Header.Set("Authorization", "Bearer "+token)
//			return nil
//		}))
//	res, err := c.GetPersonRequestWithResponse(ctx, id)
//	if err == nil && res.JSON200 != nil { ... res.JSON200.Data.Status ... }
//
// client.gen.go is generated: regenerate it with `go generate ./adapters/httpapi/client`
// after a change of the document; a test fails while it is out of date.
package client

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.json
