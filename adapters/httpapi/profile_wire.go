package httpapi

import (
	"time"

	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/ports"
)

// The wire types of the SDK.Finance profile routes. The domain's results and requests
// carry no JSON tags; these name what goes over the wire, in the seed's camelCase. The
// profile document itself (ports.Profile) is sent as it is: its JSON names are also the
// field paths a reset names ("address.city"), which the domain derives from them.

type wireProfileDocument struct {
	ID        string               `json:"id"`
	Type      string               `json:"type"`
	Status    ports.DocumentStatus `json:"status"`
	UpdatedAt time.Time            `json:"updatedAt"`
}

type wireProfileResult struct {
	Profile         ports.Profile         `json:"profile"`
	Status          string                `json:"status"`
	UserID          string                `json:"userId"`
	MandatoryFields []string              `json:"mandatoryFields"`
	PendingFields   []string              `json:"pendingFields"`
	Documents       []wireProfileDocument `json:"documents"`
}

type wireResetRequest struct {
	ID              string                   `json:"id"`
	UserID          string                   `json:"userId"`
	Description     string                   `json:"description"`
	OrganizationID  string                   `json:"organizationId"`
	Status          ports.ResetRequestStatus `json:"status"`
	InitiatorUserID string                   `json:"initiatorUserId"`
	DecidedBy       string                   `json:"decidedBy,omitempty"`
	CreatedAt       time.Time                `json:"createdAt"`
	DecidedAt       time.Time                `json:"decidedAt,omitzero"`
}

type wireResetRequestResult struct {
	Request wireResetRequest `json:"request"`
	Status  string           `json:"status"`
}

type wireResetRequestPage struct {
	Status       string             `json:"status"`
	PageNumber   int                `json:"pageNumber"`
	PageSize     int                `json:"pageSize"`
	TotalRecords int                `json:"totalRecords"`
	TotalPages   int                `json:"totalPages"`
	Records      []wireResetRequest `json:"records"`
}

type wireResetIdentificationResult struct {
	Profile         ports.Profile `json:"profile"`
	Status          string        `json:"status"`
	MandatoryFields []string      `json:"mandatoryFields"`
	Message         string        `json:"Message,omitempty"`
}

// Request bodies.

type wireProfileFieldChange struct {
	Path  string `json:"path"`
	Value string `json:"value"`
}

type updateProfileBody struct {
	Changes []wireProfileFieldChange `json:"changes"`
}

type askForResetBody struct {
	Description string `json:"description"`
}

type viewResetRequestsBody struct {
	Filter struct {
		Status         ports.ResetRequestStatus `json:"status"`
		OrganizationID string                   `json:"organizationId"`
	} `json:"filter"`
	Sort struct {
		OrganizationID string `json:"organizationId"`
		Status         string `json:"status"`
		CreatedAt      string `json:"createdAt"`
		UserID         string `json:"userId"`
	} `json:"sort"`
	PageNumber int `json:"pageNumber"`
	PageSize   int `json:"pageSize"`
}

type resetIdentificationBody struct {
	Fields []string `json:"fields"`
}

type setIdentificationStatusBody struct {
	Status ports.IdentificationStatus `json:"status"`
}

// emptyIfNil keeps lists [] on the wire, never null.
func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func toWireProfileResult(r identification.ProfileResult) wireProfileResult {
	out := wireProfileResult{
		Profile: r.Profile, Status: r.Status, UserID: r.UserID,
		MandatoryFields: emptyIfNil(r.MandatoryFields), PendingFields: emptyIfNil(r.PendingFields),
		Documents: make([]wireProfileDocument, 0, len(r.Documents)),
	}
	for _, d := range r.Documents {
		out.Documents = append(out.Documents, wireProfileDocument{ID: d.ID, Type: d.Type, Status: d.Status, UpdatedAt: d.UpdatedAt})
	}
	return out
}

func toWireResetRequest(r ports.ResetRequest) wireResetRequest {
	return wireResetRequest{
		ID: r.ID, UserID: r.UserID, Description: r.Description, OrganizationID: r.OrganizationID, Status: r.Status,
		InitiatorUserID: r.InitiatorUserID, DecidedBy: r.DecidedBy, CreatedAt: r.CreatedAt, DecidedAt: r.DecidedAt,
	}
}

func toWireResetRequestResult(r identification.ResetRequestResult) wireResetRequestResult {
	return wireResetRequestResult{Request: toWireResetRequest(r.Request), Status: r.Status}
}

func toWireResetRequestPage(r identification.ViewResetRequestsResult) wireResetRequestPage {
	out := wireResetRequestPage{
		Status: r.Status, PageNumber: r.PageNumber, PageSize: r.PageSize, TotalRecords: r.TotalRecords, TotalPages: r.TotalPages,
		Records: make([]wireResetRequest, 0, len(r.Records)),
	}
	for _, rr := range r.Records {
		out.Records = append(out.Records, toWireResetRequest(rr))
	}
	return out
}

func toWireResetIdentificationResult(r identification.ResetIdentificationResult) wireResetIdentificationResult {
	return wireResetIdentificationResult{Profile: r.Profile, Status: r.Status, MandatoryFields: emptyIfNil(r.MandatoryFields), Message: r.Message}
}

func (b updateProfileBody) domain(token string) identification.UpdateProfileRequest {
	req := identification.UpdateProfileRequest{Token: token}
	for _, c := range b.Changes {
		req.Changes = append(req.Changes, identification.ProfileFieldChange{Path: c.Path, Value: c.Value})
	}
	return req
}

func (b viewResetRequestsBody) domain(token string) identification.ViewResetRequestsRequest {
	return identification.ViewResetRequestsRequest{
		Token:  token,
		Filter: identification.ResetRequestFilter{Status: b.Filter.Status, OrganizationID: b.Filter.OrganizationID},
		Sort: identification.ResetRequestSort{OrganizationID: b.Sort.OrganizationID, Status: b.Sort.Status,
			CreatedAt: b.Sort.CreatedAt, UserID: b.Sort.UserID},
		PageNumber: b.PageNumber, PageSize: b.PageSize,
	}
}
