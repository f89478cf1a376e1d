package main

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/httpapi/client"
	"github.com/verifykit/verifykit/internal/openapicheck"
)

// contract is the checker of this package's tests: the embedded OpenAPI document, the
// development route /dev/ left out, and the headers the server sets that a response must
// declare when it sends them.
var contract = sync.OnceValues(func() (*openapicheck.Checker, error) {
	return openapicheck.New(openapicheck.SkipPrefixes("/dev/"),
		openapicheck.DeclaredHeaders("X-Request-Id", "Retry-After", "Allow"))
})

// checkedClient is an HTTP client whose every exchange is checked against the OpenAPI
// document; a mismatch fails t.
func checkedClient(t *testing.T) *http.Client {
	t.Helper()
	c, err := contract()
	require.NoError(t, err)
	return &http.Client{Transport: c.Transport(t, nil)}
}

// bearer adds the token to a request of the generated client.
func bearer(token string) client.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// otherCode is a code that is not code: the same length, each digit moved by one.
func otherCode(code string) string {
	b := []byte(code)
	for i := range b {
		b[i] = '0' + (b[i]-'0'+1)%10
	}
	return string(b)
}

// TestFlowsThroughTheGeneratedClient drives the four flows of the demo server, with their
// error cases, through the generated client only (the codes are read from /dev/sms), and
// asserts on its typed answers; every exchange is also checked against the document.
func TestFlowsThroughTheGeneratedClient(t *testing.T) {
	base, _, stop := startServer(t, "-dev")
	ctx := context.Background()
	c, err := client.NewClientWithResponses(base, client.WithHTTPClient(checkedClient(t)))
	require.NoError(t, err)

	t.Run("health", func(t *testing.T) {
		res, err := c.GetHealthWithResponse(ctx)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))
	})

	t.Run("person request", func(t *testing.T) {
		reg := bearer(tokRegistrar)
		got, err := c.GetPersonRequestWithResponse(ctx, demoPersonRequest, reg)
		require.NoError(t, err)
		require.NotNil(t, got.JSON200, string(got.Body))
		require.Equal(t, client.PersonRequestStatusNEW, got.JSON200.Data.Status)
		first := lastCode(t, base, phonePetro)

		alias := "mother"
		resent, err := c.ResendPersonRequestAuthMethodWithResponse(ctx, demoPersonRequest,
			client.ResendPersonRequestAuthMethodJSONRequestBody{Alias: &alias}, reg)
		require.NoError(t, err)
		require.NotNil(t, resent.JSON200, string(resent.Body))
		mothers := lastCode(t, base, phoneOksana)

		for _, tc := range []struct {
			name, code string
			status     int
		}{
			{"the superseded code", first, http.StatusUnprocessableEntity},
			{"the mother's code", mothers, http.StatusOK},
		} {
			code := tc.code
			res, err := c.ApprovePersonRequestWithResponse(ctx, demoPersonRequest,
				client.ApprovePersonRequestJSONRequestBody{VerificationCode: &code}, reg)
			require.NoError(t, err)
			require.Equal(t, tc.status, res.StatusCode(), "%s: %s", tc.name, res.Body)
			if tc.status == http.StatusOK {
				require.NotNil(t, res.JSON200)
				require.Equal(t, client.PersonRequestStatusAPPROVED, res.JSON200.Data.Status)
			} else {
				require.NotNil(t, res.JSON422)
				require.Equal(t, client.ErrorBodyErrorTypeValidationFailed, res.JSON422.Error.Type)
				require.Equal(t, http.StatusUnprocessableEntity, res.JSON422.Meta.Code)
			}
		}

		signed, err := c.SignPersonRequestWithResponse(ctx, demoPersonRequest, client.SignPersonRequestJSONRequestBody{}, reg)
		require.NoError(t, err)
		require.NotNil(t, signed.JSON200, string(signed.Body))
		require.Equal(t, client.PersonRequestStatusSIGNED, signed.JSON200.Data.Status)
	})

	t.Run("deactivation", func(t *testing.T) {
		const method = "am-olena-mother"
		olena, iryna := bearer(tokOlena), bearer(tokIryna)
		primary := func(res *client.ListAuthenticationMethodsResponse) string {
			t.Helper()
			require.NotNil(t, res.JSON200, string(res.Body))
			i := slices.IndexFunc(res.JSON200.Data, func(m client.AuthenticationMethod) bool { return m.IsPrimary })
			require.GreaterOrEqual(t, i, 0, "a primary method")
			return res.JSON200.Data[i].ID
		}

		explained, err := c.ExplainAuthenticationMethodDeactivationWithResponse(ctx, method,
			client.ExplainAuthenticationMethodDeactivationJSONRequestBody{}, olena)
		require.NoError(t, err)
		require.NotNil(t, explained.JSON200, string(explained.Body))
		require.False(t, explained.JSON200.Data.Allowed)
		require.NotEmpty(t, explained.JSON200.Data.Checks)

		denied, err := c.DeactivateAuthenticationMethodWithResponse(ctx, method, client.DeactivateAuthenticationMethodJSONRequestBody{}, olena)
		require.NoError(t, err)
		require.NotNil(t, denied.JSON409, string(denied.Body))
		require.Equal(t, "Request must be authorized by confidant person", denied.JSON409.Error.Message)

		listed, err := c.ListAuthenticationMethodsWithResponse(ctx, nil, olena)
		require.NoError(t, err)
		require.Equal(t, method, primary(listed))

		person := "olena"
		ended, err := c.DeactivateAuthenticationMethodWithResponse(ctx, method,
			client.DeactivateAuthenticationMethodJSONRequestBody{PersonID: &person}, iryna)
		require.NoError(t, err)
		require.NotNil(t, ended.JSON201, string(ended.Body))
		require.False(t, ended.JSON201.Data.IsActive)
		require.NotNil(t, ended.JSON201.Data.EndedAt)

		listed, err = c.ListAuthenticationMethodsWithResponse(ctx, &client.ListAuthenticationMethodsParams{PersonID: &person}, iryna)
		require.NoError(t, err)
		require.Equal(t, "am-olena-otp", primary(listed), "the primary moved to the OTP method")

		again, err := c.DeactivateAuthenticationMethodWithResponse(ctx, method,
			client.DeactivateAuthenticationMethodJSONRequestBody{PersonID: &person}, iryna)
		require.NoError(t, err)
		require.NotNil(t, again.JSON409, string(again.Body))
	})

	t.Run("profile reset", func(t *testing.T) {
		user, operator := bearer(tokUser), bearer(tokOperator)
		moved := "I moved"
		asked, err := c.AskForResetWithResponse(ctx, client.AskForResetJSONRequestBody{Description: &moved}, user)
		require.NoError(t, err)
		require.NotNil(t, asked.JSON201, string(asked.Body))
		require.NotNil(t, asked.JSON201.Request)
		require.Equal(t, client.ResetRequestStatusPENDING, *asked.JSON201.Request.Status)

		pending := client.ResetRequestStatusPENDING
		page, size := 0, 10
		viewed, err := c.ViewResetRequestsWithResponse(ctx, client.ViewResetRequestsJSONRequestBody{
			Filter:     &client.ResetRequestFilter{Status: &pending},
			PageNumber: &page, PageSize: &size,
		}, operator)
		require.NoError(t, err)
		require.NotNil(t, viewed.JSON200, string(viewed.Body))
		require.NotNil(t, viewed.JSON200.Records)
		require.True(t, slices.ContainsFunc(*viewed.JSON200.Records, func(r client.ResetRequest) bool {
			return r.UserID != nil && *r.UserID == demoUser
		}), "the user's request is listed")

		for _, tc := range []struct {
			name   string
			fields []string
			status int
		}{
			{"an unknown field", []string{"address.city", "no.such"}, http.StatusUnprocessableEntity},
			{"the city", []string{"address.city"}, http.StatusOK},
		} {
			res, err := c.RebootIdentificationWithRemarksWithResponse(ctx, demoUser,
				client.RebootIdentificationWithRemarksJSONRequestBody{Fields: tc.fields}, operator)
			require.NoError(t, err)
			require.Equal(t, tc.status, res.StatusCode(), "%s: %s", tc.name, res.Body)
			if tc.status != http.StatusOK {
				require.NotNil(t, res.JSON422)
				require.NotNil(t, res.JSON422.Error.Invalid)
				require.Equal(t, "$.fields[1]", *(*res.JSON422.Error.Invalid)[0].Entry)
				continue
			}
			require.NotNil(t, res.JSON200)
			require.NotNil(t, res.JSON200.Profile)
			require.Equal(t, client.IdentificationStatusNone, *res.JSON200.Profile.Status)
			require.NotNil(t, res.JSON200.MandatoryFields)
			require.Contains(t, *res.JSON200.MandatoryFields, "address.city")
		}

		early, err := c.SubmitIdentificationWithResponse(ctx, client.SubmitIdentificationJSONRequestBody{}, user)
		require.NoError(t, err)
		require.NotNil(t, early.JSON422, "422 until the mandatory field is updated: %s", early.Body)

		updated, err := c.UpdateMyProfileWithResponse(ctx, client.UpdateMyProfileJSONRequestBody{Changes: []client.ProfileFieldChange{{Path: "address.city", Value: "Lviv"}}}, user)
		require.NoError(t, err)
		require.NotNil(t, updated.JSON200, string(updated.Body))

		submitted, err := c.SubmitIdentificationWithResponse(ctx, client.SubmitIdentificationJSONRequestBody{}, user)
		require.NoError(t, err)
		require.NotNil(t, submitted.JSON200, string(submitted.Body))
		require.NotNil(t, submitted.JSON200.Profile)
		require.Equal(t, client.IdentificationStatusPending, *submitted.JSON200.Profile.Status)
	})

	t.Run("OTP identification", func(t *testing.T) {
		actor, admin := bearer(tokActor), bearer(tokOrgAdmin)
		meta, err := c.GetOtpIdentificationMetadataWithResponse(ctx, demoOrg, demoProcess, actor)
		require.NoError(t, err)
		require.NotNil(t, meta.JSON200, string(meta.Body))
		require.Equal(t, client.ProcessStateCREATED, *meta.JSON200.Status)

		right, twoFactor := lastCode(t, base, phoneAna), "X1234567L"
		for _, tc := range []struct {
			name, code string
			status     int
		}{
			{"a wrong code", otherCode(right), http.StatusUnprocessableEntity},
			{"the right code", right, http.StatusNoContent},
		} {
			res, err := c.ValidateOtpIdentificationWithResponse(ctx, demoOrg, demoProcess,
				client.ValidateOtpIdentificationJSONRequestBody{Code: tc.code, TwoFactor: &twoFactor}, actor)
			require.NoError(t, err)
			require.Equal(t, tc.status, res.StatusCode(), "%s: %s", tc.name, res.Body)
			if tc.status == http.StatusUnprocessableEntity {
				require.NotNil(t, res.JSON422)
				require.Equal(t, client.ErrorBodyErrorTypeValidationFailed, res.JSON422.Error.Type)
			}
		}
		details, err := c.GetOtpIdentificationWithResponse(ctx, demoOrg, demoProcess, admin)
		require.NoError(t, err)
		require.NotNil(t, details.JSON200, string(details.Body))
		require.Equal(t, client.ProcessStateVALIDATED, *details.JSON200.Status)

		name, cc, phone := "Luis", "34", "600333444"
		created, err := c.CreateOtpIdentificationWithResponse(ctx, demoOrg, client.CreateOtpIdentificationJSONRequestBody{
			Actor:   client.ProcessActor{Name: name, Msisdn: &client.ProcessMSISDN{CountryCode: &cc, PhoneNumber: &phone}},
			Channel: client.ProcessChannel{Type: client.ProcessChannelTypeSMS},
		}, admin)
		require.NoError(t, err)
		require.NotNil(t, created.JSON201, string(created.Body))
		require.Equal(t, client.ProcessStateCREATED, *created.JSON201.Status)
		id := *created.JSON201.ID

		cancelled, err := c.CancelOtpIdentificationWithResponse(ctx, demoOrg, id,
			client.CancelOtpIdentificationJSONRequestBody{Reason: "wrong person"}, admin)
		require.NoError(t, err)
		require.Equal(t, http.StatusNoContent, cancelled.StatusCode(), string(cancelled.Body))

		kept, err := c.DeleteOtpIdentificationWithResponse(ctx, demoOrg, id, nil, admin)
		require.NoError(t, err)
		require.NotNil(t, kept.JSON403, "a cancelled process is deleted only with force: %s", kept.Body)
		require.Equal(t, client.ErrorBodyErrorTypeForbidden, kept.JSON403.Error.Type)
		require.Contains(t, kept.JSON403.Error.Message, "only force=true can delete it")
	})

	require.NoError(t, stop())
}
