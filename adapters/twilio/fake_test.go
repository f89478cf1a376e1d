package twilio_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "secret-auth-token-5c2f9e"
)

// fakeTwilio implements Twilio's Messages endpoint as its documentation describes it:
// POST /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP basic auth (account SID,
// auth token) and a form-encoded To, From or MessagingServiceSid, Body and optional
// StatusCallback; 201 with the message resource, or Twilio's error JSON (code, message,
// more_info, status). It signs the status callbacks it sends as Twilio signs them.
type fakeTwilio struct {
	t   *testing.T
	srv *httptest.Server
	// refuse maps a To number to the Twilio error code and HTTP status it is refused with.
	refuse map[string][2]int
	// before, when set, may answer the n-th request (from 0) itself.
	before func(n int, w http.ResponseWriter, r *http.Request) bool

	mu       sync.Mutex
	requests []time.Time  // every request that reached the endpoint
	messages []url.Values // the forms of the messages accepted
	sids     []string     // their SIDs
}

func newFakeTwilio(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{t: t, refuse: map[string][2]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2010-04-01/Accounts/{AccountSid}/Messages.json", f.create)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func twilioError(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code": code, "message": message, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status,
	})
}

func (f *fakeTwilio) create(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	n := len(f.requests)
	f.requests = append(f.requests, time.Now())
	f.mu.Unlock()
	if f.before != nil && f.before(n, w, r) {
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != testSID || pass != testToken || r.PathValue("AccountSid") != testSID {
		twilioError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		twilioError(w, http.StatusBadRequest, 20001, "Invalid content type")
		return
	}
	if err := r.ParseForm(); err != nil {
		twilioError(w, http.StatusBadRequest, 20001, "Malformed form")
		return
	}
	form := r.PostForm
	to := form.Get("To")
	switch {
	case to == "":
		twilioError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case form.Get("Body") == "":
		twilioError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case form.Get("From") == "" && form.Get("MessagingServiceSid") == "":
		twilioError(w, http.StatusBadRequest, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.")
		return
	}
	if e, ok := f.refuse[strings.TrimPrefix(to, "whatsapp:")]; ok {
		twilioError(w, e[1], e[0], "The 'To' number "+to+" is not a valid phone number.")
		return
	}
	f.mu.Lock()
	sid := fmt.Sprintf("SM%032d", len(f.messages)+1)
	f.messages = append(f.messages, form)
	f.sids = append(f.sids, sid)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sid": sid, "account_sid": testSID, "to": to, "from": form.Get("From"), "body": form.Get("Body"),
		"status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
		"uri": "/2010-04-01/Accounts/" + testSID + "/Messages/" + sid + ".json",
	})
}

func (f *fakeTwilio) requestTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func (f *fakeTwilio) accepted() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.messages)
}

// statusParams are the POST parameters of Twilio's status callback for message i.
func (f *fakeTwilio) statusParams(i int, status, errorCode string) url.Values {
	f.mu.Lock()
	m, sid := f.messages[i], f.sids[i]
	f.mu.Unlock()
	p := url.Values{
		"AccountSid": {testSID}, "ApiVersion": {"2010-04-01"}, "From": {m.Get("From")}, "To": {m.Get("To")},
		"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status},
	}
	if errorCode != "" {
		p.Set("ErrorCode", errorCode)
	}
	return p
}

// postCallback posts params to callbackURL with the signature header sig ("" for none)
// and returns the status answered.
func postCallback(t *testing.T, callbackURL string, params url.Values, sig string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, callbackURL, strings.NewReader(params.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	if sig != "" {
		req.Header.Set("X-Twilio-Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// callback sends the status callback of message i as Twilio does: to its StatusCallback,
// signed with the auth token.
func (f *fakeTwilio) callback(t *testing.T, i int, status, errorCode string) int {
	t.Helper()
	cb := f.accepted()[i].Get("StatusCallback")
	require.NotEmpty(t, cb, "the message was sent with a StatusCallback")
	p := f.statusParams(i, status, errorCode)
	return postCallback(t, cb, p, twilioSign(testToken, cb, p))
}

// twilioSign signs as Twilio's security documentation says, written apart from package
// twilio: HMAC-SHA1 with the auth token over the full URL followed by each POST parameter,
// sorted by name, as name and value; base64.
func twilioSign(token, fullURL string, p url.Values) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := fullURL
	for _, k := range keys {
		s += k + p.Get(k)
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// postCallbackStatus posts a callback and returns the status, or -1.
func postCallbackStatus(u string, params url.Values, sig string) int {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(params.Encode()))
	if err != nil {
		return -1
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	resp.Body.Close()
	return resp.StatusCode
}
