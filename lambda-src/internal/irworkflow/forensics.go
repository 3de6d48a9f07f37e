package irworkflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/securestacks/securestacks/internal/incident"
)

// forensics attaches the forensic profile, runs the collection commands
// through Systems Manager with their output going to the evidence bucket,
// waits at most ForensicTimeout, and detaches the profile again, whatever
// happened.
func (w *Workflow) forensics(ctx context.Context, c *Case) (string, error) {
	switch {
	case c.Instance == nil || !c.Instance.SSMManaged:
		return "", skip("not managed by Systems Manager")
	case w.Config.ForensicProfileARN == "":
		return "", skip("no forensic instance profile configured")
	case w.SSM == nil || w.AssociateIamInstanceProfile == nil:
		return "", errors.New("no Systems Manager or EC2 client in this function")
	}
	timeout := w.Config.ForensicTimeout
	if timeout <= 0 {
		timeout = 3 * time.Minute
	}
	cctx, cancel := w.call(ctx)
	assoc, err := w.AssociateIamInstanceProfile.AssociateIamInstanceProfile(cctx, &ec2.AssociateIamInstanceProfileInput{
		InstanceId: aws.String(c.InstanceID), IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Arn: aws.String(w.Config.ForensicProfileARN)},
	})
	cancel()
	if err != nil {
		return "", fmt.Errorf("ec2:AssociateIamInstanceProfile (forensic profile): %w", err)
	}
	defer func() {
		if assoc.IamInstanceProfileAssociation == nil {
			return
		}
		cctx, cancel := w.call(context.WithoutCancel(ctx))
		defer cancel()
		if _, err := w.DisassociateIamInstanceProfile.DisassociateIamInstanceProfile(cctx, &ec2.DisassociateIamInstanceProfileInput{
			AssociationId: assoc.IamInstanceProfileAssociation.AssociationId,
		}); err != nil {
			w.logger().Error("forensic profile not detached", "case", c.CaseID, "error", err.Error())
		}
	}()
	doc, commands := "AWS-RunShellScript", w.Config.LinuxCommands
	if c.Instance.SSMPlatform == "Windows" || c.Instance.Platform == "windows" {
		doc, commands = "AWS-RunPowerShellScript", w.Config.WindowsCommands
	}
	if len(commands) == 0 {
		commands = DefaultLinuxCommands
		if doc == "AWS-RunPowerShellScript" {
			commands = DefaultWindowsCommands
		}
	}
	cctx, cancel = w.call(ctx)
	id, err := w.SSM.SendCommand(cctx, SendCommandInput{
		InstanceID: c.InstanceID, DocumentName: doc, Commands: commands, TimeoutSeconds: int(timeout.Seconds()),
		Bucket: w.Config.Bucket, KeyPrefix: incident.EvidencePrefix(c.CaseID) + "forensics", Comment: "securestacks ir " + c.CaseID,
	})
	cancel()
	if err != nil {
		return "", fmt.Errorf("ssm:SendCommand: %w", err)
	}
	wait, cancelWait := context.WithTimeout(ctx, timeout)
	defer cancelWait()
	poll := w.Config.PollInterval
	if poll <= 0 {
		poll = 5 * time.Second
	}
	var inv Invocation
	for {
		if err := w.sleep(wait, poll); err != nil {
			return "command " + id, fmt.Errorf("forensic command %s did not finish within %s (last status %q)", id, timeout, inv.Status)
		}
		cctx, cancel := w.call(wait)
		inv, err = w.SSM.Invocation(cctx, id, c.InstanceID)
		cancel()
		if err != nil {
			// The invocation is not visible for a moment after SendCommand.
			continue
		}
		if terminal(inv.Status) {
			break
		}
	}
	if inv.Stdout != "" {
		if _, err := w.putEvidence(ctx, c, incident.StepForensics, "forensics/stdout.txt", "text/plain; charset=utf-8", []byte(inv.Stdout)); err != nil {
			return "command " + id, err
		}
	}
	if inv.Stderr != "" {
		if _, err := w.putEvidence(ctx, c, incident.StepForensics, "forensics/stderr.txt", "text/plain; charset=utf-8", []byte(inv.Stderr)); err != nil {
			return "command " + id, err
		}
	}
	if inv.Status != "Success" {
		return "command " + id, fmt.Errorf("forensic command %s ended %s", id, inv.Status)
	}
	return fmt.Sprintf("command %s (%s, %d commands) succeeded; full output under %sforensics/", id, doc, len(commands), incident.EvidencePrefix(c.CaseID)), nil
}

func terminal(status string) bool {
	switch status {
	case "Success", "Failed", "Cancelled", "TimedOut", "Undeliverable", "Terminated", "DeliveryTimedOut", "ExecutionTimedOut", "InvalidPlatform", "AccessDenied":
		return true
	}
	return false
}
