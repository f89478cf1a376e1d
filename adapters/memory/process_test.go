package memory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
	"github.com/verifykit/verifykit/ports/porttest"
)

func TestProcessStoreConformance(t *testing.T) {
	porttest.RunProcessStore(t, func(*testing.T) ports.ProcessStore { return memory.NewProcessStore() })
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
	var _ ports.EmailSender = email
	var _ ports.WhatsAppSender = whatsapp
	cases := []struct {
		name string
		box  outbox
		send func(context.Context, ports.Message) error
		to   string
	}{
		{"email", email, email.SendEmail, "jane@example.com"},
		{"whatsapp", whatsapp, whatsapp.SendWhatsApp, "+34600111222"},
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
