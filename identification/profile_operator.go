package identification

import (
	"context"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

// ProfileRequest asks, as an operator, for a user's profile.
type ProfileRequest struct {
	// Token is the operator's access token; it needs ProfileConfig.OperatorPermission.
	Token string
	// UserID is the profile's user. Required.
	UserID string
}

// Profile returns a user's profile as an operator sees it before resetting it: the
// profile, its identification status, its documents and the mandatory and pending fields.
// Checks, in order: the token (KindUnauthorized) and ProfileConfig.OperatorPermission
// (KindForbidden); the user id (KindInvalidInput); the profile exists and is of the
// token's organisation, when the token has one (KindNotFound otherwise, exactly like a
// profile that does not exist). It changes nothing.
func (s *ProfileService) Profile(ctx context.Context, req ProfileRequest) (_ ProfileResult, err error) {
	ctx, end := s.start(ctx, "Profile")
	defer func() { end(err) }()
	op, err := s.authorizeOperator(ctx, req.Token, s.cfg.OperatorPermission)
	if err != nil {
		return ProfileResult{}, err
	}
	var v verifykit.Validation
	profileRequirePath(&v, "id", req.UserID)
	if err := v.Err(); err != nil {
		return ProfileResult{}, err
	}
	rec, err := s.profiles.Get(ctx, req.UserID)
	if err == nil && !op.sees(rec.OrganizationID) {
		err = ports.ErrProfileNotFound // another organisation's profile: as if it did not exist
	}
	if err != nil {
		return ProfileResult{}, profileStoreError(err)
	}
	return profileResult(rec), nil
}
