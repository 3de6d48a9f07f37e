package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestacks/securestacks/internal/tenantsession"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

// Environment variables the stack sets.
const (
	TableEnv       = "TABLE_NAME"
	BucketEnv      = "BUCKET_NAME"
	AccessRoleEnv  = "ACCESS_ROLE_ARN"
	TenantClaimEnv = "TENANT_CLAIM"
)

// DefaultTenantClaim is the Cognito custom attribute that names the user's tenant.
const DefaultTenantClaim = "custom:tenant_id"

// Key attributes of the pooled table: the partition key is the tenant ID,
// which the access role's dynamodb:LeadingKeys condition compares with the
// session tag.
const (
	PartitionKey = "TenantID"
	SortKey      = "ShipmentID"
)

// CallTimeout bounds each call the handler makes.
const CallTimeout = 5 * time.Second

// maxDocument bounds the shipment document returned.
const maxDocument = 1 << 20

var shipmentIDRe = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// GetItemAPI and GetObjectAPI are the one call of each store.
type GetItemAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// GetObjectAPI reads a shipment document.
type GetObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var (
	_ GetItemAPI   = (*dynamodb.Client)(nil)
	_ GetObjectAPI = (*s3.Client)(nil)
)

// TenantClients returns clients whose every call is made with tenant's
// session credentials (the access role, tagged TenantID=tenant), never with
// the function's own role.
type TenantClients interface {
	For(tenant string) (GetItemAPI, GetObjectAPI)
}

// Handler answers GET /tenants/{tenantId}/shipments/{shipmentId} (the item
// from the pooled table) and .../document (the object
// <tenant>/<shipmentId>.json from the bucket) behind API Gateway's JWT
// authorizer, which has verified the token before the function runs.
type Handler struct {
	Clients     TenantClients
	Table       string
	Bucket      string
	TenantClaim string // default DefaultTenantClaim
	Logger      *slog.Logger
}

// claims are the JWT authorizer's verified claims.
type claims map[string]string

func (c claims) Claim(name string) (string, bool) { v, ok := c[name]; return v, ok }

// Handle serves one HTTP API (payload format 2.0) request.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	log := logging.WithRequest(ctx, h.logger())
	var jwtClaims claims
	if a := req.RequestContext.Authorizer; a != nil && a.JWT != nil {
		jwtClaims = a.JWT.Claims
	}
	claim := h.TenantClaim
	if claim == "" {
		claim = DefaultTenantClaim
	}
	tenant, err := tenantsession.TenantFromClaims(jwtClaims, claim)
	if err != nil {
		log.WarnContext(ctx, "no valid tenant in the token", slog.String("error", err.Error()))
		return reply(http.StatusForbidden, "forbidden"), nil
	}
	log = log.With(slog.String("tenant", tenant))
	// The token's tenant is the only one this request acts for: a path
	// naming another tenant is refused before any call.
	if req.PathParameters["tenantId"] != tenant {
		log.WarnContext(ctx, "cross-tenant request refused")
		return reply(http.StatusForbidden, "forbidden"), nil
	}
	id := req.PathParameters["shipmentId"]
	if !shipmentIDRe.MatchString(id) {
		return reply(http.StatusBadRequest, "shipmentId: expected 1 to 64 letters, digits or dashes"), nil
	}
	items, docs := h.Clients.For(tenant)
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	var status int
	var body any
	switch req.RouteKey {
	case "GET /tenants/{tenantId}/shipments/{shipmentId}":
		status, body, err = h.shipment(ctx, items, tenant, id)
	case "GET /tenants/{tenantId}/shipments/{shipmentId}/document":
		status, body, err = h.document(ctx, docs, tenant, id)
	default:
		return reply(http.StatusNotFound, "not found"), nil
	}
	if err != nil {
		log.ErrorContext(ctx, "store call failed", slog.String("route", req.RouteKey), slog.String("error", err.Error()))
		return reply(http.StatusBadGateway, "store unavailable"), nil
	}
	log.InfoContext(ctx, "shipment request", slog.String("route", req.RouteKey), slog.Int("status", status))
	return replyJSON(status, body), nil
}

func (h *Handler) shipment(ctx context.Context, items GetItemAPI, tenant, id string) (int, any, error) {
	out, err := items.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(h.Table),
		Key: map[string]ddbtypes.AttributeValue{
			PartitionKey: &ddbtypes.AttributeValueMemberS{Value: tenant},
			SortKey:      &ddbtypes.AttributeValueMemberS{Value: id},
		},
	})
	if err != nil {
		return 0, nil, fmt.Errorf("GetItem: %w", err)
	}
	if len(out.Item) == 0 {
		return http.StatusNotFound, map[string]string{"message": "not found"}, nil
	}
	shipment := map[string]string{}
	for k, v := range out.Item {
		if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
			shipment[k] = s.Value
		}
	}
	return http.StatusOK, shipment, nil
}

func (h *Handler) document(ctx context.Context, docs GetObjectAPI, tenant, id string) (int, any, error) {
	out, err := docs.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(h.Bucket),
		Key:    aws.String(tenantsession.ObjectKey(tenant, id+".json")),
	})
	var missing *s3types.NoSuchKey
	if errors.As(err, &missing) {
		return http.StatusNotFound, map[string]string{"message": "not found"}, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("GetObject: %w", err)
	}
	defer out.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(out.Body, maxDocument+1))
	if err != nil {
		return 0, nil, fmt.Errorf("GetObject: reading: %w", err)
	}
	if len(raw) > maxDocument || !json.Valid(raw) {
		return 0, nil, errors.New("GetObject: the document is not JSON of at most 1 MiB")
	}
	return http.StatusOK, json.RawMessage(raw), nil
}

func (h *Handler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.Default()
}

func reply(status int, message string) events.APIGatewayV2HTTPResponse {
	return replyJSON(status, map[string]string{"message": message})
}

func replyJSON(status int, body any) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"internal error"}`)
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Body: string(b),
		Headers: map[string]string{"Content-Type": "application/json"}}
}
