package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"

	"github.com/verifykit/verifykit/adapters/httpapi"
	"github.com/verifykit/verifykit/adapters/smtp"
	"github.com/verifykit/verifykit/adapters/twilio"
	"github.com/verifykit/verifykit/adapters/webhook"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// deliveryEnv are the environment variables that switch real delivery on. Without any of
// them the server keeps the in-memory outboxes (GET /dev/sms).
//
//	TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN     SMS and WhatsApp through Twilio, with
//	TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID  the sending number or service;
//	TWILIO_WHATSAPP_FROM                      optional WhatsApp sender (whatsapp:+...);
//	TWILIO_STATUS_CALLBACK_URL                optional public URL of POST /twilio/status;
//	TWILIO_MESSAGES_PER_SECOND                optional pacing (default 1);
//	SMTP_URL                                  e-mail, e.g. smtp://user:pass@host:587?from=no-reply@example.com;
//	WEBHOOK_SENDER_URL, WEBHOOK_SENDER_SECRET every channel not configured above, to a
//	                                          gateway of your own (secret whsec_...).
var deliveryEnv = []string{"TWILIO_ACCOUNT_SID", "SMTP_URL", "WEBHOOK_SENDER_URL"}

// senders are the delivery adapters configured from the environment; nil where none is.
type senders struct {
	sms      ports.Sender
	email    ports.Sender
	whatsapp ports.Sender
	twilio   *twilio.Sender
}

// sendersFromEnv builds the senders the environment (getenv) configures.
func sendersFromEnv(getenv func(string) string, logger *slog.Logger) (senders, error) {
	var s senders
	if sid := getenv("TWILIO_ACCOUNT_SID"); sid != "" {
		mps := 1.0
		if v := getenv("TWILIO_MESSAGES_PER_SECOND"); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 {
				return s, fmt.Errorf("TWILIO_MESSAGES_PER_SECOND must be a positive number")
			}
			mps = f
		}
		tw, err := twilio.New(twilio.Config{
			AccountSID: sid, AuthToken: getenv("TWILIO_AUTH_TOKEN"),
			From: getenv("TWILIO_FROM"), MessagingServiceSID: getenv("TWILIO_MESSAGING_SERVICE_SID"),
			WhatsAppFrom: getenv("TWILIO_WHATSAPP_FROM"), StatusCallbackURL: getenv("TWILIO_STATUS_CALLBACK_URL"),
			MessagesPerSecond: mps, Logger: logger,
		})
		if err != nil {
			return s, fmt.Errorf("twilio: %w", err)
		}
		s.sms, s.whatsapp, s.twilio = tw.SMS(), tw.WhatsApp(), tw
	}
	if raw := getenv("SMTP_URL"); raw != "" {
		cfg, err := smtp.ParseURL(raw)
		if err != nil {
			return s, fmt.Errorf("SMTP_URL: %w", err)
		}
		cfg.Logger = logger
		mail, err := smtp.New(cfg)
		if err != nil {
			return s, fmt.Errorf("SMTP_URL: %w", err)
		}
		s.email = mail
	}
	if u := getenv("WEBHOOK_SENDER_URL"); u != "" {
		wh, err := webhook.New(webhook.Config{URL: u, Secret: getenv("WEBHOOK_SENDER_SECRET"), Logger: logger})
		if err != nil {
			return s, fmt.Errorf("webhook sender: %w", err)
		}
		if s.sms == nil {
			s.sms = wh.SMS()
		}
		if s.whatsapp == nil {
			s.whatsapp = wh.WhatsApp()
		}
		if s.email == nil {
			s.email = wh.Email()
		}
	}
	return s, nil
}

// useDelivery switches a to the senders the environment configures, if it configures
// any: the services are built again on them, and with Twilio, POST /twilio/status takes
// its status callbacks (signed with TWILIO_AUTH_TOKEN) and marks undelivered codes.
func (a *app) useDelivery(cfg otp.Config, logger *slog.Logger) error {
	configured := false
	for _, name := range deliveryEnv {
		configured = configured || os.Getenv(name) != ""
	}
	if !configured {
		return nil
	}
	s, err := sendersFromEnv(os.Getenv, logger)
	if err != nil {
		return err
	}
	// A channel the environment does not configure keeps the sender useSenders chose
	// (a bounded outbox with -dev, a logging sender without).
	sms, email, whatsapp := a.sms, a.email, a.whatsapp
	if s.sms != nil {
		sms = s.sms
	}
	if s.email != nil {
		email = s.email
	}
	if s.whatsapp != nil {
		whatsapp = s.whatsapp
	}
	codes, err := otp.NewService(otp.Deps{Store: a.codeStore, SMS: sms, Limiter: a.limiter, Clock: a.clock, Logger: logger}, cfg)
	if err != nil {
		return err
	}
	services, err := a.services(codes, logger)
	if err != nil {
		return err
	}
	deps := otpprocess.Deps{Store: a.processStore, OTP: codes, Tokens: a.tokens, Clock: a.clock, Logger: logger, Email: email, WhatsApp: whatsapp}
	if a.processes, err = otpprocess.NewService(deps, otpprocess.DefaultConfig()); err != nil {
		return err
	}
	services.Processes = a.processes
	api, err := httpapi.New(services, httpapi.Options{Logger: logger})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", api)
	if a.dev {
		mux.HandleFunc("GET /dev/sms", a.serveSMS)
	}
	if s.twilio != nil {
		router := otp.NewReceiptRouter(codes, map[string]ports.UndeliverableMarker{
			personrequest.DefaultConfig().Purpose: a.requests,
			otpprocess.DefaultCodePurpose:         a.processes,
		})
		callbacks, err := twilio.NewCallbackHandler(twilio.CallbackConfig{
			AuthToken: os.Getenv("TWILIO_AUTH_TOKEN"), AccountSID: os.Getenv("TWILIO_ACCOUNT_SID"), Marker: router, Logger: logger,
		})
		if err != nil {
			return err
		}
		mux.Handle("POST /twilio/status", callbacks)
	}
	a.handler = mux
	a.storage += "; delivery from the environment"
	return nil
}
