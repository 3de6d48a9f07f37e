// Package irdynamo keeps incident-response cases in a DynamoDB table over
// awsjson (GetItem, PutItem, DeleteItem; service/dynamodb would add about
// 1.5 MiB to binaries that already link EC2). One item per case holds its
// record as JSON; one item per instance with an open case is the lock that
// makes a second request join the first
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html).
package irdynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/securestacks/securestacks/lambda-src/internal/awsjson"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow"
)

// SDKService is the aws-sdk-go-v2 service this client stands in for
// (internal/rolecoverage reads it).
const SDKService = "dynamodb"

// Service is DynamoDB's JSON 1.0 identity.
var Service = awsjson.Service{SDKID: "DynamoDB", EndpointPrefix: "dynamodb", SigningName: "dynamodb", TargetPrefix: "DynamoDB_20120810", JSONVersion: "1.0"}

// KeyAttribute is the table's partition key (a string).
const KeyAttribute = "pk"

type attr struct {
	S string `json:"S,omitempty"`
}

// PutItemInput is the subset of PutItem the store sends.
type PutItemInput struct {
	TableName                 string            `json:"TableName"`
	Item                      map[string]attr   `json:"Item"`
	ConditionExpression       string            `json:"ConditionExpression,omitempty"`
	ExpressionAttributeValues map[string]attr   `json:"ExpressionAttributeValues,omitempty"`
	ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames,omitempty"`
}

// GetItemInput reads one item, strongly consistent.
type GetItemInput struct {
	TableName      string          `json:"TableName"`
	Key            map[string]attr `json:"Key"`
	ConsistentRead bool            `json:"ConsistentRead"`
}

type getItemOutput struct {
	Item map[string]attr `json:"Item"`
}

// DeleteItemInput deletes one item under a condition.
type DeleteItemInput struct {
	TableName                 string          `json:"TableName"`
	Key                       map[string]attr `json:"Key"`
	ConditionExpression       string          `json:"ConditionExpression,omitempty"`
	ExpressionAttributeValues map[string]attr `json:"ExpressionAttributeValues,omitempty"`
}

// Caller sends one JSON call (awsjson.Client).
type Caller interface {
	Call(ctx context.Context, operation string, in, out any) error
}

// Store is irworkflow.Cases over a table.
type Store struct {
	Table string
	API   Caller
}

var _ irworkflow.Cases = (*Store)(nil)

// New returns a Store of table for cfg.
func New(table string, cfg aws.Config, dnsSuffix func(context.Context, string) (string, error)) *Store {
	return &Store{Table: table, API: &awsjson.Client{Service: Service, Config: cfg, DNSSuffix: dnsSuffix}}
}

// ErrNotFound is Load's error for an unknown case.
var ErrNotFound = errors.New("case not found")

func caseKey(id string) map[string]attr { return map[string]attr{KeyAttribute: {S: "case#" + id}} }
func instanceKey(id string) map[string]attr {
	return map[string]attr{KeyAttribute: {S: "instance#" + id}}
}

// Load reads a case.
func (s *Store) Load(ctx context.Context, caseID string) (*irworkflow.Case, error) {
	var out getItemOutput
	if err := s.getItem(ctx, &GetItemInput{TableName: s.Table, Key: caseKey(caseID), ConsistentRead: true}, &out); err != nil {
		return nil, fmt.Errorf("dynamodb:GetItem: %w", err)
	}
	rec, ok := out.Item["record"]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, caseID)
	}
	var c irworkflow.Case
	if err := json.Unmarshal([]byte(rec.S), &c); err != nil {
		return nil, fmt.Errorf("case %s: decoding the record: %w", caseID, err)
	}
	return &c, nil
}

// Save writes a case.
func (s *Store) Save(ctx context.Context, c *irworkflow.Case) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	item := caseKey(c.CaseID)
	item["record"] = attr{S: string(b)}
	item["instanceId"] = attr{S: c.InstanceID}
	if err := s.putItem(ctx, &PutItemInput{TableName: s.Table, Item: item}); err != nil {
		return fmt.Errorf("dynamodb:PutItem: %w", err)
	}
	return nil
}

// Open takes the instance's lock for c, or returns the case that holds it.
func (s *Store) Open(ctx context.Context, c *irworkflow.Case) (string, bool, error) {
	lock := instanceKey(c.InstanceID)
	lock["caseId"] = attr{S: c.CaseID}
	err := s.putItem(ctx, &PutItemInput{TableName: s.Table, Item: lock,
		ConditionExpression: "attribute_not_exists(#k)", ExpressionAttributeNames: map[string]string{"#k": KeyAttribute}})
	var apiErr *awsjson.Error
	if errors.As(err, &apiErr) && apiErr.Code == "ConditionalCheckFailedException" {
		var out getItemOutput
		if err := s.getItem(ctx, &GetItemInput{TableName: s.Table, Key: instanceKey(c.InstanceID), ConsistentRead: true}, &out); err != nil {
			return "", false, fmt.Errorf("dynamodb:GetItem: %w", err)
		}
		if id := out.Item["caseId"].S; id != "" {
			return id, false, nil
		}
		return "", false, fmt.Errorf("instance %s is locked by a case that released it meanwhile: retry", c.InstanceID)
	}
	if err != nil {
		return "", false, fmt.Errorf("dynamodb:PutItem (lock): %w", err)
	}
	if err := s.Save(ctx, c); err != nil {
		return "", false, err
	}
	return c.CaseID, true, nil
}

// Close drops the instance's lock if caseID holds it.
func (s *Store) Close(ctx context.Context, instanceID, caseID string) error {
	err := s.deleteItem(ctx, &DeleteItemInput{TableName: s.Table, Key: instanceKey(instanceID),
		ConditionExpression: "caseId = :c", ExpressionAttributeValues: map[string]attr{":c": {S: caseID}}})
	var apiErr *awsjson.Error
	if errors.As(err, &apiErr) && apiErr.Code == "ConditionalCheckFailedException" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dynamodb:DeleteItem (lock): %w", err)
	}
	return nil
}

// One method per operation, so internal/rolecoverage sees each (it finds
// operations by their <Op>Input parameter).
func (s *Store) getItem(ctx context.Context, in *GetItemInput, out *getItemOutput) error {
	return s.API.Call(ctx, "GetItem", in, out)
}

func (s *Store) putItem(ctx context.Context, in *PutItemInput) error {
	return s.API.Call(ctx, "PutItem", in, nil)
}

func (s *Store) deleteItem(ctx context.Context, in *DeleteItemInput) error {
	return s.API.Call(ctx, "DeleteItem", in, nil)
}
