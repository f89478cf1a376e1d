package main

import (
	"context"
	"log/slog"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
)

// devOutboxLimit is how many messages to each recipient the -dev outboxes keep (GET
// /dev/sms shows them): the latest ones, so that the server's memory does not grow with
// every code it sends.
const devOutboxLimit = 10

// useSenders chooses the senders of codes and messages when the environment configures no
// delivery (delivery.go): with -dev, in-memory outboxes bounded to the latest
// devOutboxLimit messages per recipient, the SMS one served at GET /dev/sms; without it,
// senders that log one masked line per message and keep nothing.
func (a *app) useSenders(dev bool, logger *slog.Logger) {
	if dev {
		sms, email, whatsapp := memory.NewSMSOutbox(), memory.NewEmailOutbox(), memory.NewWhatsAppOutbox()
		sms.SetLimit(devOutboxLimit)
		email.SetLimit(devOutboxLimit)
		whatsapp.SetLimit(devOutboxLimit)
		a.outbox, a.sms, a.email, a.whatsapp = sms, sms, email, whatsapp
		return
	}
	a.sms = logSender{log: logger, channel: "sms", mask: ports.MaskPhone}
	a.email = logSender{log: logger, channel: "e-mail", mask: ports.MaskEmail}
	a.whatsapp = logSender{log: logger, channel: "whatsapp", mask: ports.MaskPhone}
}

// logSender is a ports.Sender that sends nothing: it logs one line per message, with the
// recipient masked and never the body (which holds the code), and keeps nothing.
type logSender struct {
	log     *slog.Logger
	channel string
	mask    func(string) string
}

// Send logs msg.
func (s logSender) Send(ctx context.Context, msg ports.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "message not delivered: no sender configured (run with -dev to read it at /dev/sms)",
		slog.String("channel", s.channel), slog.String("to", s.mask(msg.To)), slog.String("code_id", msg.Ref.CodeID))
	return nil
}
