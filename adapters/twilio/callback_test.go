package twilio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/twilio"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// world wires the flows to Twilio as a host would: the otp engine and the person request
// flow send SMS through a Sender talking to the fake Twilio, whose status callbacks reach
// a CallbackHandler that routes them to the flows.
type world struct {
	ctx      context.Context
	fake     *fakeTwilio
	hook     *httptest.Server
	codes    *otp.Service
	requests *personrequest.Service
	store    *memory.PersonRequestStore
	otpStore *memory.OTPStore
	logs     *memory.LogBuffer
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{ctx: context.Background(), fake: newFakeTwilio(t), store: memory.NewPersonRequestStore(), otpStore: memory.NewOTPStore(), logs: &memory.LogBuffer{}}
	logger := w.logs.Logger()
	mux := http.NewServeMux()
	w.hook = httptest.NewServer(mux)
	t.Cleanup(w.hook.Close)
	sender, err := twilio.New(twilio.Config{AccountSID: testSID, AuthToken: testToken, From: "+15005550006",
		BaseURL: w.fake.srv.URL, StatusCallbackURL: w.hook.URL + "/twilio/status", Logger: logger})
	require.NoError(t, err)
	w.codes = memory.NewTestEngine(t, otp.Deps{Store: w.otpStore, SMS: sender.SMS(), Logger: logger}, nil)
	tokens := memory.NewTokens()
	tokens.Add("tok", ports.Claims{Subject: "w", Scopes: []string{personrequest.ScopeWrite, personrequest.ScopeRead}, ExpiresAt: time.Now().Add(time.Hour)})
	w.requests, err = personrequest.NewService(personrequest.Deps{Store: w.store, OTP: w.codes, Tokens: tokens, Uploads: memory.NewUploadSigner(), Logger: logger},
		personrequest.DefaultConfig())
	require.NoError(t, err)
	router := otp.NewReceiptRouter(w.codes, map[string]ports.UndeliverableMarker{personrequest.DefaultConfig().Purpose: w.requests})
	h, err := twilio.NewCallbackHandler(twilio.CallbackConfig{AuthToken: testToken, AccountSID: testSID, Marker: router, Logger: logger})
	require.NoError(t, err)
	mux.Handle("POST /twilio/status", h)
	return w
}

var digits = regexp.MustCompile(`\d{4,10}`)

func (w *world) createRequest(t *testing.T) personrequest.Request {
	t.Helper()
	r, err := w.requests.Create(w.ctx, personrequest.CreateRequest{Token: "tok", Person: personrequest.Person{
		FirstName: "Petro", LastName: "Ivanenko",
		Documents:   []personrequest.Document{{Type: "PASSPORT", Number: "AB123456"}},
		AuthMethods: []personrequest.AuthMethod{{Type: personrequest.AuthOTP, Alias: "mobile", Phone: "+380931234585", Primary: true}},
	}})
	require.NoError(t, err)
	return r
}

func (w *world) storedCode(t *testing.T, id string) ports.OTPRecord {
	t.Helper()
	r, err := w.store.Get(w.ctx, id)
	require.NoError(t, err)
	return r.Verification.Code
}

// After a signed "undelivered" callback, approving with the code that was sent answers
// that there is no code to match, and the stored code is undeliverable.
func TestUndeliveredCallbackMarksThePersonRequestCode(t *testing.T) {
	for _, status := range []string{"undelivered", "failed"} {
		t.Run(status, func(t *testing.T) {
			w := newWorld(t)
			r := w.createRequest(t)
			sent := w.fake.accepted()
			require.Len(t, sent, 1)
			code := digits.FindString(sent[0].Get("Body"))
			require.Equal(t, http.StatusNoContent, w.fake.callback(t, 0, "sent", ""))
			require.Equal(t, ports.CodeActive, w.storedCode(t, r.ID).State, "a status other than undelivered changes nothing")

			require.Equal(t, http.StatusNoContent, w.fake.callback(t, 0, status, "30003"))
			require.Equal(t, ports.CodeUndeliverable, w.storedCode(t, r.ID).State)
			_, err := w.requests.Approve(w.ctx, personrequest.ApproveRequest{Token: "tok", ID: r.ID, Code: code})
			require.ErrorIs(t, err, otp.ErrNoActiveCode)
			require.ErrorContains(t, err, otp.MsgInvalidCode)

			require.Equal(t, http.StatusNoContent, w.fake.callback(t, 0, status, "30003"), "a repeated callback is acknowledged")
			require.NotContains(t, w.logs.String(), code)
		})
	}
}

func TestUndeliveredCallbackMarksAStandaloneCode(t *testing.T) {
	w := newWorld(t)
	issued, err := w.codes.Issue(w.ctx, otp.IssueRequest{Purpose: "login", Subject: "user-1", Recipient: "+380931234585"})
	require.NoError(t, err)
	code := digits.FindString(w.fake.accepted()[0].Get("Body"))
	require.Equal(t, http.StatusNoContent, w.fake.callback(t, 0, "undelivered", "30005"))
	v, err := w.codes.Codes(w.ctx, "login", "user-1")
	require.NoError(t, err)
	require.Equal(t, issued.ID, v.Code.ID)
	require.Equal(t, ports.CodeUndeliverable, v.Code.State)
	_, err = w.codes.Verify(w.ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-1", Code: code})
	require.ErrorIs(t, err, otp.ErrNoActiveCode)
}

// A delivered code that was used is not touched by a late "failed" callback.
func TestLateCallbackLeavesAUsedCode(t *testing.T) {
	w := newWorld(t)
	r := w.createRequest(t)
	code := digits.FindString(w.fake.accepted()[0].Get("Body"))
	_, err := w.requests.Approve(w.ctx, personrequest.ApproveRequest{Token: "tok", ID: r.ID, Code: code})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, w.fake.callback(t, 0, "failed", "30008"))
	require.Equal(t, ports.CodeVerified, w.storedCode(t, r.ID).State)
}

func TestBadlySignedCallbacksAreRefusedAndChangeNothing(t *testing.T) {
	w := newWorld(t)
	r := w.createRequest(t)
	cb := w.fake.accepted()[0].Get("StatusCallback")
	params := w.fake.statusParams(0, "undelivered", "30003")
	forged, err := url.Parse(cb)
	require.NoError(t, err)
	q := forged.Query()
	q.Set("vk_code", "another-code")
	forged.RawQuery = q.Encode()
	otherAccount := w.fake.statusParams(0, "undelivered", "30003")
	otherAccount.Set("AccountSid", "AC99999999999999999999999999999999")
	tampered := w.fake.statusParams(0, "undelivered", "30003")
	tampered.Set("MessageStatus", "delivered")

	for _, tc := range []struct {
		name   string
		url    string
		params url.Values
		sig    string
	}{
		{"unsigned", cb, params, ""},
		{"not base64", cb, params, "%%%"},
		{"signed with another token", cb, params, twilioSign("another-token", cb, params)},
		{"parameter changed after signing", cb, params, twilioSign(testToken, cb, tampered)},
		{"URL changed after signing", forged.String(), params, twilioSign(testToken, cb, params)},
		{"signed for another account", cb, otherAccount, twilioSign("another-token", cb, otherAccount)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, http.StatusForbidden, postCallback(t, tc.url, tc.params, tc.sig))
			require.Equal(t, ports.CodeActive, w.storedCode(t, r.ID).State)
		})
	}
	require.Contains(t, w.logs.String(), "twilio callback refused: bad signature")
	require.NotContains(t, w.logs.String(), testToken)

	resp, err := http.Get(cb)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

// Behind a proxy the handler checks the signature against the public URL Twilio called.
func TestCallbackBehindAProxyUsesPublicURL(t *testing.T) {
	var marked []ports.DeliveryRef
	h, err := twilio.NewCallbackHandler(twilio.CallbackConfig{AuthToken: testToken, PublicURL: "https://hooks.example.com/",
		Marker: markerFunc(func(_ context.Context, ref ports.DeliveryRef) (bool, error) {
			marked = append(marked, ref)
			return true, nil
		})})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	path := "/twilio/status?vk_code=c1&vk_purpose=p&vk_scope=org-1&vk_subject=s1"
	p := url.Values{"MessageStatus": {"failed"}, "MessageSid": {"SM1"}, "AccountSid": {testSID}}
	require.Equal(t, http.StatusForbidden, postCallback(t, srv.URL+path, p, twilioSign(testToken, srv.URL+path, p)))
	require.Equal(t, http.StatusNoContent, postCallback(t, srv.URL+path, p, twilioSign(testToken, "https://hooks.example.com"+path, p)))
	require.Equal(t, []ports.DeliveryRef{{Purpose: "p", Subject: "s1", CodeID: "c1", Scope: "org-1"}}, marked)
}

type markerFunc func(context.Context, ports.DeliveryRef) (bool, error)

func (f markerFunc) MarkUndeliverable(ctx context.Context, ref ports.DeliveryRef) (bool, error) {
	return f(ctx, ref)
}
