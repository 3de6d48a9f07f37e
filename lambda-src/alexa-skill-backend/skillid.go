package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// GetParameterAPI reads the skill-id parameter.
type GetParameterAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

var _ GetParameterAPI = (*ssm.Client)(nil)

// SkillIDSource returns the id of the one skill this backend answers.
type SkillIDSource interface {
	SkillID(ctx context.Context) (string, error)
}

// ParameterSkillID reads the skill id from an SSM parameter the first time it is needed and
// keeps it for the life of the execution environment. The permission custom resource writes
// the parameter once the skill exists, so a failed or empty read is not cached: the next
// request tries again.
type ParameterSkillID struct {
	API  GetParameterAPI
	Name string

	mu sync.Mutex
	id string
}

var _ SkillIDSource = (*ParameterSkillID)(nil)

// SkillID returns the cached id or reads the parameter.
func (p *ParameterSkillID) SkillID(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.id != "" {
		return p.id, nil
	}
	if p.Name == "" {
		return "", fmt.Errorf("skill id parameter: environment variable %s is empty; expected the name of the SSM parameter with the skill id", SkillIDParameterEnv)
	}
	out, err := p.API.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(p.Name)})
	if err != nil {
		return "", fmt.Errorf("reading skill id parameter %s: %w", p.Name, err)
	}
	id := ""
	if out.Parameter != nil {
		id = strings.TrimSpace(aws.ToString(out.Parameter.Value))
	}
	if id == "" {
		return "", fmt.Errorf("skill id parameter %s is empty", p.Name)
	}
	p.id = id
	return id, nil
}
