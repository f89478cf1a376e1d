package httpapi

import (
	"time"

	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/ports"
)

// The wire types of the OTP identification routes. The domain types carry no JSON tags:
// these say what goes over the wire, with optional properties left out when empty, as the
// OpenAPI document describes them.

type wireMSISDN struct {
	CountryCode string `json:"country_code,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
}

type wireIdentityDocument struct {
	DocumentType   string `json:"document_type,omitempty"`
	DocumentNumber string `json:"document_number,omitempty"`
	Country        string `json:"country,omitempty"`
}

type wireActor struct {
	Name             string                `json:"name"`
	LastName         string                `json:"last_name,omitempty"`
	Email            string                `json:"email,omitempty"`
	MSISDN           *wireMSISDN           `json:"msisdn,omitempty"`
	IdentityDocument *wireIdentityDocument `json:"identity_document,omitempty"`
	Language         string                `json:"language,omitempty"`
}

type wireChannel struct {
	Type     otpprocess.ChannelType `json:"type"`
	External bool                   `json:"external"`
}

// wireProcess is a process as its organisation sees it, with its one-time code when the
// channel is external: the organisation delivers it, and gets it this once.
type wireProcess struct {
	ID                string                   `json:"id"`
	OrgID             string                   `json:"org_id"`
	State             otpprocess.State         `json:"status"`
	Actor             wireActor                `json:"actor"`
	TwoFactorType     otpprocess.TwoFactorType `json:"two_factor_type,omitempty"`
	Channel           wireChannel              `json:"channel"`
	CreatedAt         time.Time                `json:"created_at"`
	UpdatedAt         time.Time                `json:"updated_at"`
	ExpiresAt         time.Time                `json:"expires_at"`
	CodeSentAt        time.Time                `json:"code_sent_at,omitzero"`
	CodesSent         int                      `json:"codes_sent"`
	FailedAttempts    int                      `json:"failed_attempts"`
	ValidatedAt       time.Time                `json:"validated_at,omitzero"`
	TwoFactorEvidence string                   `json:"two_factor_evidence,omitempty"`
	CancelledAt       time.Time                `json:"cancelled_at,omitzero"`
	CancelReason      string                   `json:"cancel_reason,omitempty"`
	Code              string                   `json:"code,omitempty"`
}

// wireProcessMetadata is what the actor sees of a process.
type wireProcessMetadata struct {
	ID            string                   `json:"id"`
	State         otpprocess.State         `json:"status"`
	ExpiresAt     time.Time                `json:"expires_at"`
	TwoFactorType otpprocess.TwoFactorType `json:"two_factor_type,omitempty"`
	Channel       otpprocess.ChannelType   `json:"channel"`
	MaskedContact string                   `json:"masked_contact"`
	Language      string                   `json:"language,omitempty"`
}

// wireProcessList is a page of processes.
type wireProcessList struct {
	Processes []wireProcess `json:"processes"`
	Total     int           `json:"total"`
	Offset    int           `json:"offset"`
	Limit     int           `json:"limit"`
}

// createProcessBody is the body of POST /v1/orgs/{org_id}/identifications/otp.
type createProcessBody struct {
	Actor         wireActor                `json:"actor"`
	ExpiresIn     string                   `json:"expires_in"`
	TwoFactorType otpprocess.TwoFactorType `json:"two_factor_type"`
	Channel       wireChannel              `json:"channel"`
}

func (a wireActor) domain() otpprocess.Actor {
	out := otpprocess.Actor{Name: a.Name, LastName: a.LastName, Email: a.Email, Language: a.Language}
	if a.MSISDN != nil {
		out.MSISDN = ports.ProcessPhone{CountryCode: a.MSISDN.CountryCode, PhoneNumber: a.MSISDN.PhoneNumber}
	}
	if d := a.IdentityDocument; d != nil {
		out.IdentityDocument = otpprocess.IdentityDocument{DocumentType: d.DocumentType, DocumentNumber: d.DocumentNumber, Country: d.Country}
	}
	return out
}

func toWireActor(a otpprocess.Actor) wireActor {
	out := wireActor{Name: a.Name, LastName: a.LastName, Email: a.Email, Language: a.Language}
	if m := a.MSISDN; m != (ports.ProcessPhone{}) {
		out.MSISDN = &wireMSISDN{CountryCode: m.CountryCode, PhoneNumber: m.PhoneNumber}
	}
	if d := a.IdentityDocument; d != (otpprocess.IdentityDocument{}) {
		out.IdentityDocument = &wireIdentityDocument{DocumentType: d.DocumentType, DocumentNumber: d.DocumentNumber, Country: d.Country}
	}
	return out
}

func toWireProcess(p otpprocess.Process, code string) wireProcess {
	return wireProcess{
		ID: p.ID, OrgID: p.OrgID, State: p.State, Actor: toWireActor(p.Actor), TwoFactorType: p.TwoFactorType,
		Channel:   wireChannel{Type: p.Channel.Type, External: p.Channel.External},
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, ExpiresAt: p.ExpiresAt,
		CodeSentAt: p.CodeSentAt, CodesSent: p.CodesSent, FailedAttempts: p.FailedAttempts,
		ValidatedAt: p.ValidatedAt, TwoFactorEvidence: p.TwoFactorEvidence,
		CancelledAt: p.CancelledAt, CancelReason: p.CancelReason, Code: code,
	}
}

func toWireProcessMetadata(m otpprocess.Metadata) wireProcessMetadata {
	return wireProcessMetadata{
		ID: m.ID, State: m.State, ExpiresAt: m.ExpiresAt, TwoFactorType: m.TwoFactorType,
		Channel: m.Channel, MaskedContact: m.MaskedContact, Language: m.Language,
	}
}

func toWireProcessList(res otpprocess.ListResult) wireProcessList {
	out := wireProcessList{Processes: make([]wireProcess, 0, len(res.Processes)), Total: res.Total, Offset: res.Offset, Limit: res.Limit}
	for _, p := range res.Processes {
		out.Processes = append(out.Processes, toWireProcess(p, ""))
	}
	return out
}
