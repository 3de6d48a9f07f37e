package irdynamo_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/securestacks/securestacks/lambda-src/internal/awsjson"
	"github.com/securestacks/securestacks/lambda-src/internal/irdynamo"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow"
)

// table is a one-table DynamoDB that honours the two condition expressions
// the store sends.
type table struct {
	items map[string]map[string]any
	ops   []string
}

func (t *table) Call(_ context.Context, op string, in, out any) error {
	t.ops = append(t.ops, op)
	b, _ := json.Marshal(in)
	var req struct {
		Item, Key                 map[string]map[string]string
		ConditionExpression       string
		ExpressionAttributeValues map[string]map[string]string
	}
	_ = json.Unmarshal(b, &req)
	conflict := &awsjson.Error{Code: "ConditionalCheckFailedException", Status: 400}
	switch op {
	case "PutItem":
		k := req.Item["pk"]["S"]
		if req.ConditionExpression != "" && t.items[k] != nil {
			return conflict
		}
		m := map[string]any{}
		for a, v := range req.Item {
			m[a] = v
		}
		t.items[k] = m
	case "GetItem":
		b, _ := json.Marshal(map[string]any{"Item": t.items[req.Key["pk"]["S"]]})
		return json.Unmarshal(b, out)
	case "DeleteItem":
		k := req.Key["pk"]["S"]
		if it := t.items[k]; it == nil || it["caseId"].(map[string]string)["S"] != req.ExpressionAttributeValues[":c"]["S"] {
			return conflict
		}
		delete(t.items, k)
	}
	return nil
}

func TestOpenJoinsTheInstancesOpenCase(t *testing.T) {
	// GIVEN an open case for the instance
	tb := &table{items: map[string]map[string]any{}}
	s := &irdynamo.Store{Table: "cases", API: tb}
	ctx := context.Background()
	if id, created, err := s.Open(ctx, &irworkflow.Case{CaseID: "first", InstanceID: "i-1"}); err != nil || !created || id != "first" {
		t.Fatalf("first open: %s %v %v", id, created, err)
	}
	// WHEN a second request opens another case for it
	id, created, err := s.Open(ctx, &irworkflow.Case{CaseID: "second", InstanceID: "i-1"})
	// THEN it joins the first, and the second case is never stored
	if err != nil || created || id != "first" {
		t.Errorf("second open: %s %v %v", id, created, err)
	}
	if _, err := s.Load(ctx, "second"); err == nil {
		t.Error("the joining case was stored")
	}
	// AND once the first is closed, a new case opens; closing with a stale case ID is a no-op
	if err := s.Close(ctx, "i-1", "second"); err != nil {
		t.Fatal(err)
	}
	if _, created, _ := s.Open(ctx, &irworkflow.Case{CaseID: "third", InstanceID: "i-1"}); created {
		t.Error("a stale close freed the lock")
	}
	if err := s.Close(ctx, "i-1", "first"); err != nil {
		t.Fatal(err)
	}
	if _, created, _ := s.Open(ctx, &irworkflow.Case{CaseID: "third", InstanceID: "i-1"}); !created {
		t.Error("closed lock still held")
	}
	c, err := s.Load(ctx, "third")
	if err != nil || c.InstanceID != "i-1" {
		t.Errorf("load: %+v %v", c, err)
	}
}
