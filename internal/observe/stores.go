package observe

import (
	"context"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// The resources of the store ports (ports.Operation.Resource).
const (
	ResourceOTP           = "otp_code"
	ResourcePersonRequest = "person_request"
	ResourceProcess       = "process"
	ResourceProfile       = "profile"
	ResourceResetRequest  = "reset_request"
	ResourcePerson        = "person"
	ResourceAuthMethod    = "auth_method"
	ResourceConfidant     = "confidant"
)

// OTPStore wraps s for obs.
func OTPStore(obs ports.Observer, flow string, s ports.OTPStore) ports.OTPStore {
	if !Enabled(obs) || s == nil {
		return s
	}
	return &otpStore{port{obs, flow}, s}
}

type otpStore struct {
	p     port
	inner ports.OTPStore
}

func (s *otpStore) Get(ctx context.Context, purpose, subject string) (ports.Verification, error) {
	return run(ctx, s.p, PortStore, ResourceOTP, "Get", func(ctx context.Context) (ports.Verification, error) {
		return s.inner.Get(ctx, purpose, subject)
	})
}

func (s *otpStore) Update(ctx context.Context, purpose, subject string, fn func(*ports.Verification) error) (ports.Verification, error) {
	return update(ctx, s.p, ResourceOTP, "Update", func(ctx context.Context, keep func(error) error) (ports.Verification, error) {
		return s.inner.Update(ctx, purpose, subject, func(v *ports.Verification) error { return keep(fn(v)) })
	})
}

func (s *otpStore) PurgeExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	return run(ctx, s.p, PortStore, ResourceOTP, "PurgeExpired", func(ctx context.Context) (int, error) {
		return s.inner.PurgeExpired(ctx, before, limit)
	})
}

// PersonRequestStore wraps s for obs.
func PersonRequestStore(obs ports.Observer, flow string, s ports.PersonRequestStore) ports.PersonRequestStore {
	if !Enabled(obs) || s == nil {
		return s
	}
	return &personRequestStore{port{obs, flow}, s}
}

type personRequestStore struct {
	p     port
	inner ports.PersonRequestStore
}

func (s *personRequestStore) Create(ctx context.Context, req ports.PersonRequest) error {
	return run0(ctx, s.p, PortStore, ResourcePersonRequest, "Create", func(ctx context.Context) error { return s.inner.Create(ctx, req) })
}

func (s *personRequestStore) Get(ctx context.Context, id string) (ports.PersonRequest, error) {
	return run(ctx, s.p, PortStore, ResourcePersonRequest, "Get", func(ctx context.Context) (ports.PersonRequest, error) {
		return s.inner.Get(ctx, id)
	})
}

func (s *personRequestStore) Update(ctx context.Context, id string, fn func(*ports.PersonRequest) error) (ports.PersonRequest, error) {
	return update(ctx, s.p, ResourcePersonRequest, "Update", func(ctx context.Context, keep func(error) error) (ports.PersonRequest, error) {
		return s.inner.Update(ctx, id, func(r *ports.PersonRequest) error { return keep(fn(r)) })
	})
}

func (s *personRequestStore) ListCreatedBefore(ctx context.Context, statuses []ports.PersonRequestStatus, before time.Time, limit int) ([]string, error) {
	return run(ctx, s.p, PortStore, ResourcePersonRequest, "ListCreatedBefore", func(ctx context.Context) ([]string, error) {
		return s.inner.ListCreatedBefore(ctx, statuses, before, limit)
	})
}

// ProcessStore wraps s for obs.
func ProcessStore(obs ports.Observer, flow string, s ports.ProcessStore) ports.ProcessStore {
	if !Enabled(obs) || s == nil {
		return s
	}
	return &processStore{port{obs, flow}, s}
}

type processStore struct {
	p     port
	inner ports.ProcessStore
}

func (s *processStore) Create(ctx context.Context, rec ports.ProcessRecord) error {
	return run0(ctx, s.p, PortStore, ResourceProcess, "Create", func(ctx context.Context) error { return s.inner.Create(ctx, rec) })
}

func (s *processStore) Get(ctx context.Context, orgID, id string) (ports.ProcessRecord, error) {
	return run(ctx, s.p, PortStore, ResourceProcess, "Get", func(ctx context.Context) (ports.ProcessRecord, error) {
		return s.inner.Get(ctx, orgID, id)
	})
}

func (s *processStore) Update(ctx context.Context, orgID, id string, fn func(*ports.ProcessRecord) error) (ports.ProcessRecord, error) {
	return update(ctx, s.p, ResourceProcess, "Update", func(ctx context.Context, keep func(error) error) (ports.ProcessRecord, error) {
		return s.inner.Update(ctx, orgID, id, func(r *ports.ProcessRecord) error { return keep(fn(r)) })
	})
}

func (s *processStore) List(ctx context.Context, filter ports.ProcessFilter) (ports.ProcessPage, error) {
	return run(ctx, s.p, PortStore, ResourceProcess, "List", func(ctx context.Context) (ports.ProcessPage, error) {
		return s.inner.List(ctx, filter)
	})
}

func (s *processStore) ExpireDue(ctx context.Context, now time.Time, limit int) (int, error) {
	return run(ctx, s.p, PortStore, ResourceProcess, "ExpireDue", func(ctx context.Context) (int, error) {
		return s.inner.ExpireDue(ctx, now, limit)
	})
}

// ProfileStore wraps s for obs.
func ProfileStore(obs ports.Observer, flow string, s ports.ProfileStore) ports.ProfileStore {
	if !Enabled(obs) || s == nil {
		return s
	}
	return &profileStore{port{obs, flow}, s}
}

type profileStore struct {
	p     port
	inner ports.ProfileStore
}

func (s *profileStore) Get(ctx context.Context, userID string) (ports.ProfileRecord, error) {
	return run(ctx, s.p, PortStore, ResourceProfile, "Get", func(ctx context.Context) (ports.ProfileRecord, error) {
		return s.inner.Get(ctx, userID)
	})
}

func (s *profileStore) Update(ctx context.Context, userID string, fn func(*ports.ProfileRecord) error) (ports.ProfileRecord, error) {
	return update(ctx, s.p, ResourceProfile, "Update", func(ctx context.Context, keep func(error) error) (ports.ProfileRecord, error) {
		return s.inner.Update(ctx, userID, func(r *ports.ProfileRecord) error { return keep(fn(r)) })
	})
}

// ResetRequestStore wraps s for obs.
func ResetRequestStore(obs ports.Observer, flow string, s ports.ResetRequestStore) ports.ResetRequestStore {
	if !Enabled(obs) || s == nil {
		return s
	}
	return &resetRequestStore{port{obs, flow}, s}
}

type resetRequestStore struct {
	p     port
	inner ports.ResetRequestStore
}

func (s *resetRequestStore) Get(ctx context.Context, id string) (ports.ResetRequest, error) {
	return run(ctx, s.p, PortStore, ResourceResetRequest, "Get", func(ctx context.Context) (ports.ResetRequest, error) {
		return s.inner.Get(ctx, id)
	})
}

func (s *resetRequestStore) List(ctx context.Context, q ports.ResetRequestQuery) ([]ports.ResetRequest, int, error) {
	ctx, end := s.p.start(ctx, PortStore, "List", ResourceResetRequest)
	records, total, err := s.inner.List(ctx, q)
	end(err)
	return records, total, err
}

// PersonStore wraps s for obs.
func PersonStore(obs ports.Observer, flow string, s ports.PersonStore) ports.PersonStore {
	if !Enabled(obs) || s == nil {
		return s
	}
	return &personStore{port{obs, flow}, s}
}

type personStore struct {
	p     port
	inner ports.PersonStore
}

func (s *personStore) Person(ctx context.Context, id string) (ports.PersonRecord, error) {
	return run(ctx, s.p, PortStore, ResourcePerson, "Person", func(ctx context.Context) (ports.PersonRecord, error) {
		return s.inner.Person(ctx, id)
	})
}

// AuthMethodStore wraps s for obs.
func AuthMethodStore(obs ports.Observer, flow string, s ports.AuthMethodStore) ports.AuthMethodStore {
	if !Enabled(obs) || s == nil {
		return s
	}
	return &authMethodStore{port{obs, flow}, s}
}

type authMethodStore struct {
	p     port
	inner ports.AuthMethodStore
}

func (s *authMethodStore) AuthMethod(ctx context.Context, id string) (ports.AuthMethodRecord, error) {
	return run(ctx, s.p, PortStore, ResourceAuthMethod, "AuthMethod", func(ctx context.Context) (ports.AuthMethodRecord, error) {
		return s.inner.AuthMethod(ctx, id)
	})
}

func (s *authMethodStore) AuthMethods(ctx context.Context, personID string) ([]ports.AuthMethodRecord, error) {
	return run(ctx, s.p, PortStore, ResourceAuthMethod, "AuthMethods", func(ctx context.Context) ([]ports.AuthMethodRecord, error) {
		return s.inner.AuthMethods(ctx, personID)
	})
}

func (s *authMethodStore) UpdateAuthMethods(ctx context.Context, personID string, fn func([]ports.AuthMethodRecord) error) ([]ports.AuthMethodRecord, error) {
	return update(ctx, s.p, ResourceAuthMethod, "UpdateAuthMethods", func(ctx context.Context, keep func(error) error) ([]ports.AuthMethodRecord, error) {
		return s.inner.UpdateAuthMethods(ctx, personID, func(m []ports.AuthMethodRecord) error { return keep(fn(m)) })
	})
}

// ConfidantStore wraps s for obs.
func ConfidantStore(obs ports.Observer, flow string, s ports.ConfidantStore) ports.ConfidantStore {
	if !Enabled(obs) || s == nil {
		return s
	}
	return &confidantStore{port{obs, flow}, s}
}

type confidantStore struct {
	p     port
	inner ports.ConfidantStore
}

func (s *confidantStore) ConfidantRelationships(ctx context.Context, personID string) ([]ports.ConfidantRelationship, error) {
	return run(ctx, s.p, PortStore, ResourceConfidant, "ConfidantRelationships", func(ctx context.Context) ([]ports.ConfidantRelationship, error) {
		return s.inner.ConfidantRelationships(ctx, personID)
	})
}
