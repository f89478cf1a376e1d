package memory_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
)

func TestSMSOutboxLimit(t *testing.T) {
	ctx := context.Background()
	msg := func(to string, i int) ports.Message {
		return ports.Message{To: to, Body: fmt.Sprintf("m%d", i), IdempotencyKey: fmt.Sprintf("%s-%d", to, i)}
	}
	cases := []struct {
		name  string
		limit int
		sends int // to each of +1 and +2, alternating
		want  []string
	}{
		{name: "unbounded keeps all", limit: 0, sends: 3, want: []string{"m0", "m0", "m1", "m1", "m2", "m2"}},
		{name: "the latest per recipient", limit: 2, sends: 4, want: []string{"m2", "m2", "m3", "m3"}},
		{name: "under the bound", limit: 5, sends: 2, want: []string{"m0", "m0", "m1", "m1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := memory.NewSMSOutbox()
			o.SetLimit(tc.limit)
			for i := range tc.sends {
				for _, to := range []string{"+1", "+2"} {
					require.NoError(t, o.Send(ctx, msg(to, i)))
				}
			}
			var got []string
			for _, m := range o.Messages() {
				got = append(got, m.Body)
			}
			require.Equal(t, tc.want, got, "oldest first, across recipients")
			require.Len(t, o.Attempts(), len(tc.want))
			last, ok := o.Last("+2")
			require.True(t, ok)
			require.Equal(t, fmt.Sprintf("m%d", tc.sends-1), last.Body)
			require.NoError(t, o.Send(ctx, msg("+2", tc.sends-1)), "a kept key is not delivered again")
			require.Len(t, o.Messages(), len(tc.want))
			o.Reset()
			require.Empty(t, o.Messages())
		})
	}
}

func TestSMSOutboxSetLimitTrims(t *testing.T) {
	ctx := context.Background()
	o := memory.NewSMSOutbox()
	for i := range 5 {
		require.NoError(t, o.Send(ctx, ports.Message{To: "+1", Body: fmt.Sprint(i)}))
	}
	o.SetLimit(2)
	require.Equal(t, []ports.Message{{To: "+1", Body: "3"}, {To: "+1", Body: "4"}}, o.Messages())
	o.SetLimit(0)
	require.NoError(t, o.Send(ctx, ports.Message{To: "+1", Body: "5"}))
	require.Len(t, o.Messages(), 3)
}

func TestSMSOutbox(t *testing.T) {
	ctx := context.Background()
	o := memory.NewSMSOutbox()
	require.NoError(t, o.Send(ctx, ports.Message{To: "+1", Body: "one", IdempotencyKey: "k1"}))
	require.NoError(t, o.Send(ctx, ports.Message{To: "+2", Body: "two", IdempotencyKey: "k2"}))
	require.NoError(t, o.Send(ctx, ports.Message{To: "+1", Body: "three", IdempotencyKey: "k3"}))
	last, ok := o.Last("+1")
	require.True(t, ok)
	require.Equal(t, "three", last.Body)
	_, ok = o.Last("+3")
	require.False(t, ok)

	// The same idempotency key is delivered once.
	require.NoError(t, o.Send(ctx, ports.Message{To: "+1", Body: "three", IdempotencyKey: "k3"}))
	require.Len(t, o.Messages(), 3)
	require.Len(t, o.Attempts(), 4)

	o.FailNext(2, false)
	err := o.Send(ctx, ports.Message{To: "+1"})
	require.ErrorIs(t, err, memory.ErrInjectedFailure)
	require.NotErrorIs(t, err, ports.ErrPermanent)
	require.Error(t, o.Send(ctx, ports.Message{To: "+1"}))
	require.NoError(t, o.Send(ctx, ports.Message{To: "+1", IdempotencyKey: "k4"}), "only the next two fail")

	o.FailNext(1, true)
	err = o.Send(ctx, ports.Message{To: "+380931234585"})
	require.ErrorIs(t, err, ports.ErrPermanent)
	require.NotContains(t, err.Error(), "+380931234585", "errors carry masked numbers only")

	o.Reset()
	require.Empty(t, o.Messages())
	require.Empty(t, o.Attempts())
}

// outbox is what the e-mail and WhatsApp outboxes share.
type outbox interface {
	Last(to string) (ports.Message, bool)
	Messages() []ports.Message
	Attempts() []ports.Message
	FailNext(n int, permanent bool)
	Reset()
}

func TestChannelOutboxes(t *testing.T) {
	email := memory.NewEmailOutbox()
	whatsapp := memory.NewWhatsAppOutbox()
	var _ ports.Sender = email
	var _ ports.Sender = whatsapp
	cases := []struct {
		name string
		box  outbox
		send func(context.Context, ports.Message) error
		to   string
	}{
		{"email", email, email.Send, "jane@example.com"},
		{"whatsapp", whatsapp, whatsapp.Send, "+34600111222"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			msg := ports.Message{To: tc.to, Body: "code 123456", IdempotencyKey: "k1"}
			tc.box.FailNext(1, true)
			err := tc.send(ctx, msg)
			require.ErrorIs(t, err, ports.ErrPermanent)
			require.ErrorIs(t, err, memory.ErrInjectedFailure)
			require.NoError(t, tc.send(ctx, msg))
			require.NoError(t, tc.send(ctx, msg), "a retry with the same key is not delivered twice")
			require.Len(t, tc.box.Messages(), 1)
			require.Len(t, tc.box.Attempts(), 3)
			last, ok := tc.box.Last(tc.to)
			require.True(t, ok)
			require.Equal(t, msg, last)
			tc.box.FailNext(1, false)
			err = tc.send(ctx, ports.Message{To: tc.to, IdempotencyKey: "k2"})
			require.ErrorIs(t, err, memory.ErrInjectedFailure)
			require.False(t, errors.Is(err, ports.ErrPermanent))
			tc.box.Reset()
			require.Empty(t, tc.box.Messages())
			_, ok = tc.box.Last(tc.to)
			require.False(t, ok)
		})
	}
}

func TestOutboxesNameTheirChannel(t *testing.T) {
	ctx := context.Background()
	mail := memory.NewEmailOutbox()
	mail.FailNext(1, true)
	err := mail.Send(ctx, ports.Message{To: "jane.doe@example.com"})
	require.ErrorIs(t, err, ports.ErrPermanent)
	require.Contains(t, err.Error(), "e-mail to j***@e***.com")
	require.NoError(t, mail.Send(ctx, ports.Message{To: "jane.doe@example.com", Body: "hi"}))
	got, ok := mail.Last("jane.doe@example.com")
	require.True(t, ok)
	require.Equal(t, "hi", got.Body)

	wa := memory.NewWhatsAppOutbox()
	wa.FailNext(1, false)
	require.ErrorContains(t, wa.Send(ctx, ports.Message{To: "+380931234585"}), "whatsapp to +38093*****85")
}
