package twilio_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/verifykit/verifykit/adapters/twilio"
	"github.com/verifykit/verifykit/ports"
)

// A Sender posts to Twilio's Messages endpoint; here a stand-in answers as Twilio does.
func ExampleSender() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		fmt.Println(r.Method, r.URL.Path)
		fmt.Println("To:", r.PostForm.Get("To"), "From:", r.PostForm.Get("From"))
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"sid": "SM00000000000000000000000000000001", "status": "queued"}`)
	}))
	defer api.Close()

	sms, err := twilio.New(twilio.Config{
		AccountSID: "AC00000000000000000000000000000000", AuthToken: "token-from-your-secret-store",
		From: "+15005550006", BaseURL: api.URL, MessagesPerSecond: 1,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sms.WhatsApp().Send(context.Background(), ports.Message{To: "+380931234585", Body: "Your code is 482913"}))
	// Output:
	// POST /2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json
	// To: whatsapp:+380931234585 From: whatsapp:+15005550006
	// <nil>
}

// A CallbackHandler refuses a callback that Twilio did not sign.
func ExampleCallbackHandler() {
	h, err := twilio.NewCallbackHandler(twilio.CallbackConfig{
		AuthToken: "12345",
		Marker: markerFunc(func(_ context.Context, ref ports.DeliveryRef) (bool, error) {
			fmt.Println("undeliverable:", ref.Purpose, ref.Subject, ref.CodeID)
			return true, nil
		}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	cb := srv.URL + "/status?vk_code=c1&vk_purpose=login&vk_subject=user-1"
	params := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"undelivered"}}
	for _, sig := range []string{"forged", twilio.Signature("12345", cb, params)} {
		fmt.Println(postCallbackStatus(cb, params, sig))
	}
	// Output:
	// 403
	// undeliverable: login user-1 c1
	// 204
}
