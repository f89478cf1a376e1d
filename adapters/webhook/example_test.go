package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/verifykit/verifykit/adapters/webhook"
	"github.com/verifykit/verifykit/ports"
)

// Sign computes the signature of the Standard Webhooks specification's example.
func ExampleSign() {
	sig, err := webhook.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	fmt.Println(sig, err)
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= <nil>
}

// A gateway checks each request with Verify before it delivers the message.
func ExampleSender() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header, body, time.Now()); err != nil {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		var p webhook.Payload
		_ = json.Unmarshal(body, &p)
		fmt.Println("gateway got", p.Channel, "for", p.To, "key", r.Header.Get("Idempotency-Key"))
		w.WriteHeader(http.StatusAccepted)
	}))
	defer gateway.Close()

	sender, err := webhook.New(webhook.Config{URL: gateway.URL, Secret: secret, MessagesPerSecond: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = sender.SMS().Send(context.Background(), ports.Message{To: "+380931234585", Body: "Your code is 482913", IdempotencyKey: "code-1"})
	fmt.Println("sent:", err)
	// Output:
	// gateway got sms for +380931234585 key code-1
	// sent: <nil>
}
