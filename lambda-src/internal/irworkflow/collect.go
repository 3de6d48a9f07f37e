package irworkflow

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/securestacks/securestacks/internal/incident"
)

// putEvidence writes one artifact: SSE-KMS under the deployment's key, the
// SHA-256 computed here and sent as the object's checksum (S3 rejects the
// object if its bytes differ, and Object Lock requires a checksum on every
// put with a retention period), and the expected bucket owner.
func (w *Workflow) putEvidence(ctx context.Context, c *Case, step, name, contentType string, body []byte) (Artifact, error) {
	if w.PutObject == nil {
		return Artifact{}, errors.New("no S3 client in this function")
	}
	sum := sha256.Sum256(body)
	key := incident.EvidencePrefix(c.CaseID) + name
	in := &s3.PutObjectInput{
		Bucket:            aws.String(w.Config.Bucket),
		Key:               aws.String(key),
		Body:              bytes.NewReader(body),
		ContentLength:     aws.Int64(int64(len(body))),
		ContentType:       aws.String(contentType),
		ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256,
		ChecksumSHA256:    aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		Metadata:          map[string]string{"case-id": c.CaseID, "instance-id": c.InstanceID, "step": step},
	}
	if w.Config.KMSKeyARN != "" {
		in.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(w.Config.KMSKeyARN)
		in.BucketKeyEnabled = aws.Bool(true)
	}
	if w.Config.BucketOwner != "" {
		in.ExpectedBucketOwner = aws.String(w.Config.BucketOwner)
	}
	cctx, cancel := w.call(ctx)
	defer cancel()
	out, err := w.PutObject.PutObject(cctx, in)
	if err != nil {
		return Artifact{}, fmt.Errorf("s3:PutObject %s: %w", key, err)
	}
	a := Artifact{Key: key, VersionID: aws.ToString(out.VersionId), SHA256: hex.EncodeToString(sum[:]), Size: len(body), Step: step}
	c.addArtifact(a)
	return a, nil
}

// describe returns the instance as EC2 describes it now.
func (w *Workflow) describe(ctx context.Context, instanceID string) (ec2types.Instance, error) {
	cctx, cancel := w.call(ctx)
	defer cancel()
	out, err := w.DescribeInstances.DescribeInstances(cctx, &ec2.DescribeInstancesInput{InstanceIds: []string{instanceID}})
	if err != nil {
		return ec2types.Instance{}, fmt.Errorf("ec2:DescribeInstances: %w", err)
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			if aws.ToString(i.InstanceId) == instanceID {
				return i, nil
			}
		}
	}
	return ec2types.Instance{}, fmt.Errorf("instance %s not found", instanceID)
}

// FactsOf reduces an EC2 description to what the later steps need.
func FactsOf(i ec2types.Instance) *Facts {
	f := &Facts{
		Platform:   string(i.Platform),
		RootDevice: string(i.RootDeviceType),
		VpcID:      aws.ToString(i.VpcId),
		Tags:       map[string]string{},
	}
	if i.State != nil {
		f.State = string(i.State.Name)
	}
	for _, t := range i.Tags {
		f.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	for _, n := range i.NetworkInterfaces {
		it := Interface{ID: aws.ToString(n.NetworkInterfaceId), VpcID: aws.ToString(n.VpcId)}
		if it.VpcID == "" {
			it.VpcID = f.VpcID
		}
		for _, g := range n.Groups {
			it.Groups = append(it.Groups, aws.ToString(g.GroupId))
		}
		f.Interfaces = append(f.Interfaces, it)
	}
	for _, b := range i.BlockDeviceMappings {
		if b.Ebs != nil && b.Ebs.VolumeId != nil {
			f.EBSVolumes = append(f.EBSVolumes, *b.Ebs.VolumeId)
		}
	}
	return f
}

// metadataDocument is metadata.json.
type metadataDocument struct {
	CapturedAt     string                   `json:"capturedAt"`
	CaseID         string                   `json:"caseId"`
	Instance       ec2types.Instance        `json:"instance"`
	SecurityGroups []ec2types.SecurityGroup `json:"securityGroups"`
	SSM            struct {
		Online   bool   `json:"online"`
		Platform string `json:"platformType,omitempty"`
		Error    string `json:"error,omitempty"`
	} `json:"systemsManager"`
}

func (w *Workflow) metadata(ctx context.Context, c *Case) (string, error) {
	inst, err := w.describe(ctx, c.InstanceID)
	if err != nil {
		return "", err
	}
	facts := FactsOf(inst)
	doc := metadataDocument{CapturedAt: w.now().Format("2006-01-02T15:04:05.000Z"), CaseID: c.CaseID, Instance: inst}
	var groups []string
	for _, it := range facts.Interfaces {
		for _, g := range it.Groups {
			if !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
	}
	var problems []string
	if len(groups) > 0 && w.DescribeSecurityGroups != nil {
		cctx, cancel := w.call(ctx)
		out, err := w.DescribeSecurityGroups.DescribeSecurityGroups(cctx, &ec2.DescribeSecurityGroupsInput{GroupIds: groups})
		cancel()
		if err != nil {
			problems = append(problems, "ec2:DescribeSecurityGroups: "+err.Error())
		} else {
			doc.SecurityGroups = out.SecurityGroups
		}
	}
	if w.SSM != nil && facts.State == "running" {
		online, platform, err := w.SSM.Managed(ctx, c.InstanceID)
		if err != nil {
			doc.SSM.Error = err.Error()
			problems = append(problems, "ssm:DescribeInstanceInformation: "+err.Error())
		}
		doc.SSM.Online, doc.SSM.Platform = online, platform
		facts.SSMManaged, facts.SSMPlatform = online, platform
	}
	c.Instance = facts
	c.Refusal = Refusal(w.Config, c.InstanceID, facts.State, facts.Tags)
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding the metadata: %w", err)
	}
	if _, err := w.putEvidence(ctx, c, incident.StepMetadata, "metadata.json", "application/json", body); err != nil {
		return "", err
	}
	detail := fmt.Sprintf("%d interfaces, %d EBS volumes, state %s", len(facts.Interfaces), len(facts.EBSVolumes), facts.State)
	if len(problems) > 0 {
		return detail, errors.New(strings.Join(problems, "; "))
	}
	return detail, nil
}

func (w *Workflow) console(ctx context.Context, c *Case) (string, error) {
	var done, problems []string
	cctx, cancel := w.call(ctx)
	shot, err := w.GetConsoleScreenshot.GetConsoleScreenshot(cctx, &ec2.GetConsoleScreenshotInput{InstanceId: aws.String(c.InstanceID), WakeUp: aws.Bool(true)})
	cancel()
	if err == nil {
		var img []byte
		if img, err = base64.StdEncoding.DecodeString(aws.ToString(shot.ImageData)); err == nil {
			_, err = w.putEvidence(ctx, c, incident.StepConsole, "console-screenshot.jpg", "image/jpeg", img)
		}
	}
	if err != nil {
		problems = append(problems, "screenshot: "+err.Error())
	} else {
		done = append(done, "screenshot")
	}
	// Latest=true returns the most recent output on Nitro instances only;
	// other instances answer without it.
	cctx, cancel = w.call(ctx)
	out, err := w.GetConsoleOutput.GetConsoleOutput(cctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(c.InstanceID), Latest: aws.Bool(true)})
	cancel()
	if err != nil {
		cctx, cancel = w.call(ctx)
		out, err = w.GetConsoleOutput.GetConsoleOutput(cctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(c.InstanceID)})
		cancel()
	}
	if err == nil {
		var text []byte
		if text, err = base64.StdEncoding.DecodeString(aws.ToString(out.Output)); err == nil {
			_, err = w.putEvidence(ctx, c, incident.StepConsole, "console-output.txt", "text/plain; charset=utf-8", text)
		}
	}
	if err != nil {
		problems = append(problems, "console output: "+err.Error())
	} else {
		done = append(done, "console output")
	}
	detail := "saved: " + strings.Join(done, ", ")
	if len(problems) > 0 {
		return detail, errors.New(strings.Join(problems, "; "))
	}
	return detail, nil
}

func (w *Workflow) snapshots(ctx context.Context, c *Case) (string, error) {
	if c.Instance != nil && len(c.Instance.EBSVolumes) == 0 {
		return "", skip("no EBS volumes (instance store only)")
	}
	if len(c.Snapshots) > 0 {
		return fmt.Sprintf("%d snapshots already taken", len(c.Snapshots)), nil
	}
	tags := []ec2types.Tag{
		{Key: aws.String(incident.TagCase), Value: aws.String(c.CaseID)},
		{Key: aws.String("securestacks:ir-instance"), Value: aws.String(c.InstanceID)},
	}
	cctx, cancel := w.call(ctx)
	defer cancel()
	out, err := w.CreateSnapshots.CreateSnapshots(cctx, &ec2.CreateSnapshotsInput{
		InstanceSpecification: &ec2types.InstanceSpecification{InstanceId: aws.String(c.InstanceID), ExcludeBootVolume: aws.Bool(false)},
		Description:           aws.String("securestacks incident response case " + c.CaseID),
		CopyTagsFromSource:    ec2types.CopyTagsFromSourceVolume,
		TagSpecifications:     []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: tags}},
	})
	if err != nil {
		return "", fmt.Errorf("ec2:CreateSnapshots: %w", err)
	}
	for _, s := range out.Snapshots {
		c.Snapshots = append(c.Snapshots, Snapshot{SnapshotID: aws.ToString(s.SnapshotId), VolumeID: aws.ToString(s.VolumeId)})
	}
	return fmt.Sprintf("%d crash-consistent snapshots", len(c.Snapshots)), nil
}
