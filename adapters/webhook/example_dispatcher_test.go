package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/webhook"
	"github.com/verifykit/verifykit/ports"
)

// ExampleDispatcher delivers the events of a memory outbox to a receiver that checks each
// request's signature with Verify.
func ExampleDispatcher() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ctx := context.Background()
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header, body, time.Now()); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var p struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(body, &p)
		fmt.Println("received", p.Type)
	}))
	defer receiver.Close()

	outbox := memory.NewOutbox()
	requests := memory.NewPersonRequestStore()
	requests.PublishTo(outbox) // the store writes each request's events with it
	_ = requests.Create(ctx, ports.PersonRequest{ID: "pr-1", Status: ports.PersonRequestNew,
		Outbox: []ports.LifecycleEvent{ports.NewLifecycleEvent("personrequest.created", "person_request", "pr-1", time.Now())}})

	d, err := webhook.NewDispatcher(webhook.DispatcherConfig{
		Outbox:    outbox,
		Endpoints: []webhook.Endpoint{{URL: receiver.URL, Secret: secret}},
	})
	if err != nil {
		panic(err)
	}
	n, err := d.DispatchOnce(ctx)
	fmt.Println(n, err)
	// Output:
	// received personrequest.created
	// 1 <nil>
}
