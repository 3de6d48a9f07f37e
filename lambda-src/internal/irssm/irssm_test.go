package irssm_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/securestacks/securestacks/lambda-src/internal/irssm"
	"github.com/securestacks/securestacks/lambda-src/internal/irworkflow"
)

type caller struct {
	ops    []string
	bodies []map[string]any
	answer map[string]string
}

func (c *caller) Call(_ context.Context, op string, in, out any) error {
	b, _ := json.Marshal(in)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	c.ops, c.bodies = append(c.ops, op), append(c.bodies, m)
	if a, ok := c.answer[op]; ok && out != nil {
		return json.Unmarshal([]byte(a), out)
	}
	return nil
}

func TestForensicCommandShapes(t *testing.T) {
	// GIVEN Systems Manager answers as its API reference shows
	// (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html)
	api := &caller{answer: map[string]string{
		"DescribeInstanceInformation": `{"InstanceInformationList":[{"InstanceId":"i-1","PingStatus":"Online","PlatformType":"Linux"}]}`,
		"SendCommand":                 `{"Command":{"CommandId":"cmd-9"}}`,
		"GetCommandInvocation":        `{"Status":"Success","StandardOutputContent":"ok\n"}`,
	}}
	c := &irssm.Client{API: api}
	ctx := context.Background()
	// WHEN the forensics step asks, sends and reads
	online, platform, err := c.Managed(ctx, "i-1")
	if err != nil || !online || platform != "Linux" {
		t.Fatalf("managed %v %q %v", online, platform, err)
	}
	id, err := c.SendCommand(ctx, irworkflow.SendCommandInput{InstanceID: "i-1", DocumentName: "AWS-RunShellScript",
		Commands: []string{"uname -a"}, TimeoutSeconds: 180, Bucket: "evidence", KeyPrefix: "cases/c/forensics"})
	if err != nil || id != "cmd-9" {
		t.Fatalf("send %q %v", id, err)
	}
	inv, err := c.Invocation(ctx, id, "i-1")
	// THEN the requests carry the SDK's field names, and the output comes back
	if err != nil || inv.Status != "Success" || inv.Stdout != "ok\n" {
		t.Fatalf("invocation %+v %v", inv, err)
	}
	send := api.bodies[1]
	params, _ := send["Parameters"].(map[string]any)
	if send["DocumentName"] != "AWS-RunShellScript" || send["OutputS3BucketName"] != "evidence" || send["OutputS3KeyPrefix"] != "cases/c/forensics" ||
		params["executionTimeout"].([]any)[0] != "180" || params["commands"].([]any)[0] != "uname -a" || send["InstanceIds"].([]any)[0] != "i-1" {
		t.Errorf("SendCommand body %v", send)
	}
	if api.bodies[2]["CommandId"] != "cmd-9" || api.bodies[2]["InstanceId"] != "i-1" {
		t.Errorf("GetCommandInvocation body %v", api.bodies[2])
	}
	// AND an instance the agent does not know is not managed
	if online, _, _ := (&irssm.Client{API: &caller{answer: map[string]string{"DescribeInstanceInformation": `{"InstanceInformationList":[]}`}}}).Managed(ctx, "i-2"); online {
		t.Error("unknown instance managed")
	}
}
