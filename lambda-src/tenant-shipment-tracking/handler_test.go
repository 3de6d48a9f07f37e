package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// store is yellow's data only: the items and objects any tenant's session
// could read if the handler asked for them.
type store struct {
	items   map[[2]string]map[string]ddbtypes.AttributeValue
	objects map[string]string
	// reads records each call as "<session tenant> <what>".
	reads []string
}

type getItemFunc func(ctx context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)

func (f getItemFunc) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return f(ctx, in, o...)
}

type getObjectFunc func(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error)

func (f getObjectFunc) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return f(ctx, in, o...)
}

// For answers as IAM would for the tenant's session: a key outside the
// tenant's partition or prefix is AccessDenied, and the test fails.
func (s *store) For(tenant string) (GetItemAPI, GetObjectAPI) {
	return getItemFunc(func(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
			pk := in.Key[PartitionKey].(*ddbtypes.AttributeValueMemberS).Value
			sk := in.Key[SortKey].(*ddbtypes.AttributeValueMemberS).Value
			s.reads = append(s.reads, tenant+" item "+pk+"/"+sk)
			if pk != tenant {
				panic("the handler asked for another tenant's item with " + tenant + "'s session")
			}
			return &dynamodb.GetItemOutput{Item: s.items[[2]string{pk, sk}]}, nil
		}), getObjectFunc(func(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
			s.reads = append(s.reads, tenant+" object "+*in.Key)
			if !strings.HasPrefix(*in.Key, tenant+"/") {
				panic("the handler asked for another tenant's object with " + tenant + "'s session")
			}
			body, ok := s.objects[*in.Key]
			if !ok {
				return nil, &s3types.NoSuchKey{}
			}
			return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(body))}, nil
		})
}

func TestHandler(t *testing.T) {
	cases := []struct {
		event  string
		status int
		reads  []string // what the handler asked the stores for
		body   string
	}{
		{"own_shipment.json", 200, []string{"yellow item yellow/s-1"}, `"Status":"IN_TRANSIT"`},
		// Tenant B's token on tenant A's path: refused, nothing read.
		{"cross_tenant_path.json", 403, nil, "forbidden"},
		// Tenant B asking for the ID of A's shipment under its own path: B's
		// partition holds no such item.
		{"other_tenants_shipment.json", 404, []string{"blue item blue/s-1"}, "not found"},
		{"no_tenant_claim.json", 403, nil, "forbidden"},
		{"bad_tenant_claim.json", 403, nil, "forbidden"},
		{"no_authorizer.json", 403, nil, "forbidden"},
		{"own_document.json", 200, []string{"yellow object yellow/s-1.json"}, `"eta":"2026-12-04"`},
		{"other_tenants_document.json", 404, []string{"blue object blue/s-1.json"}, "not found"},
		{"bad_shipment_id.json", 400, nil, "shipmentId"},
	}
	for _, c := range cases {
		t.Run(c.event, func(t *testing.T) {
			s := &store{
				items:   map[[2]string]map[string]ddbtypes.AttributeValue{{"yellow", "s-1"}: {PartitionKey: &ddbtypes.AttributeValueMemberS{Value: "yellow"}, SortKey: &ddbtypes.AttributeValueMemberS{Value: "s-1"}, "Status": &ddbtypes.AttributeValueMemberS{Value: "IN_TRANSIT"}}},
				objects: map[string]string{"yellow/s-1.json": `{"eta":"2026-12-04"}`},
			}
			var logs bytes.Buffer
			h := &Handler{Clients: s, Table: "Shipments", Bucket: "docs", Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			raw, err := os.ReadFile("testdata/" + c.event)
			if err != nil {
				t.Fatal(err)
			}
			var req events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &req); err != nil {
				t.Fatal(err)
			}
			resp, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.status || !strings.Contains(resp.Body, c.body) {
				t.Errorf("got %d %s, want %d containing %s", resp.StatusCode, resp.Body, c.status, c.body)
			}
			if strings.Join(s.reads, ";") != strings.Join(c.reads, ";") {
				t.Errorf("reads = %q, want %q", s.reads, c.reads)
			}
			if strings.Contains(logs.String(), "IN_TRANSIT") || strings.Contains(logs.String(), "eta") {
				t.Errorf("data in the logs: %s", logs.String())
			}
		})
	}
}
