package cloudfrontorigin_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/cloudfrontorigin"
	"github.com/securestacks/securestacks/internal/nag"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

func newStack() (awscdk.App, awscdk.Stack, awsec2.IVpc) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{"aws:cdk:bundling-stacks": []any{}}})
	stack := awscdk.NewStack(app, jsii.String("OriginTest"), nil)
	vpc := awsec2.Vpc_FromVpcAttributes(stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
		VpcId: jsii.String("vpc-12345678"), AvailabilityZones: jsii.Strings("eu-west-1a"),
	})
	return app, stack, vpc
}

func TestPrefixListModeIsTheDefault(t *testing.T) {
	// GIVEN a dual-stack origin on 443 with the default mode
	app, stack, vpc := newStack()
	nag.ApplyPacks(app)
	cloudfrontorigin.NewOrigin(stack, "Origin", &cloudfrontorigin.OriginProps{ExistingVpc: vpc, DualStack: true})
	// WHEN synthesized
	if errs := nag.Errors(stack); len(errs) > 0 {
		t.Fatalf("nag: %s", strings.Join(errs, "\n"))
	}
	tpl := assertions.Template_FromStack(stack, nil)
	// THEN each IP version's managed list is looked up at deploy by name, in the stack's region
	for _, name := range []string{cloudfrontorigin.PrefixListName, cloudfrontorigin.IPv6PrefixListName} {
		tpl.HasResourceProperties(jsii.String(cloudfrontorigin.PrefixListResourceType), &map[string]any{"PrefixListName": name})
	}
	// AND one rule per port and version references the looked-up ID
	tpl.ResourceCountIs(jsii.String("AWS::EC2::SecurityGroupIngress"), jsii.Number(2))
	for _, fam := range []string{"IPv4", "IPv6"} {
		tpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupIngress"), &map[string]any{
			"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
			"SourcePrefixListId": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("OriginLookup" + fam)), "PrefixListId"}},
		})
	}
	// AND no Lambda runs after deploy: nothing subscribes to anything
	tpl.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(0))
}

func TestPrefixListIdsSkipTheLookup(t *testing.T) {
	_, stack, vpc := newStack()
	cloudfrontorigin.NewOrigin(stack, "Origin", &cloudfrontorigin.OriginProps{ExistingVpc: vpc, PrefixListIds: []*string{jsii.String("pl-4fa04526")}})
	tpl := assertions.Template_FromStack(stack, nil)
	tpl.ResourceCountIs(jsii.String(cloudfrontorigin.PrefixListResourceType), jsii.Number(0))
	tpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(0))
	tpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupIngress"), &map[string]any{"SourcePrefixListId": "pl-4fa04526"})
}

// synthError synthesizes app and returns the message of the panic it raises ("" when none).
func synthError(app awscdk.App) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	app.Synth(nil)
	return ""
}

// An AWS-managed list weighs 55 rules
// (https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html)
// and a group holds 60 inbound rules per IP version
// (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups).
func TestWeightCheck(t *testing.T) {
	cases := []struct {
		name    string
		rules   int
		ports   []float64
		quota   float64
		wantErr bool
	}{
		{"5 rules + 55 fit", 5, nil, 0, false},
		{"6 rules + 55 do not", 6, nil, 0, true},
		{"two ports weigh 110", 0, []float64{80, 443}, 0, true},
		{"two ports fit a raised quota", 0, []float64{80, 443}, 120, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app, stack, vpc := newStack()
			sg := awsec2.NewSecurityGroup(stack, jsii.String("Fixture"), &awsec2.SecurityGroupProps{Vpc: vpc})
			for i := range tc.rules {
				sg.AddIngressRule(awsec2.Peer_Ipv4(jsii.String(fmt.Sprintf("10.0.%d.0/24", i))), awsec2.Port_Tcp(jsii.Number(22)), nil, nil)
			}
			cloudfrontorigin.NewOrigin(stack, "Origin", &cloudfrontorigin.OriginProps{
				ExistingSecurityGroup: sg, Ports: tc.ports, RulesPerGroup: tc.quota, PrefixListIds: []*string{jsii.String("pl-4fa04526")},
			})
			msg := synthError(app)
			if tc.wantErr != strings.Contains(msg, "cloudfrontorigin: security group OriginTest/Fixture") {
				t.Fatalf("synth error = %q, want an error: %v", msg, tc.wantErr)
			}
			if tc.wantErr && !strings.Contains(msg, "weight 55, over the quota of 60") {
				t.Errorf("message %q", msg)
			}
		})
	}
}

func TestUpdaterMode(t *testing.T) {
	for _, target := range []string{cloudfrontorigin.TargetPrefixList, cloudfrontorigin.TargetSecurityGroups} {
		t.Run(target, func(t *testing.T) {
			app, stack, vpc := newStack()
			nag.ApplyPacks(app)
			cloudfrontorigin.NewOrigin(stack, "Origin", &cloudfrontorigin.OriginProps{
				Mode: cloudfrontorigin.ModeUpdater, UpdaterTarget: target, ExistingVpc: vpc, Service: jsii.String("CLOUDFRONT_ORIGIN_FACING"),
			})
			if errs := nag.Errors(stack); len(errs) > 0 {
				t.Fatalf("nag: %s", strings.Join(errs, "\n"))
			}
			tpl := assertions.Template_FromStack(stack, nil)
			// THEN the function subscribes to AWS's topic in us-east-1
			tpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), &map[string]any{
				"TopicArn": cloudfrontorigin.TopicArn, "Protocol": "lambda", "Region": "us-east-1",
			})
			// AND only that topic may invoke it
			tpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), &map[string]any{
				"Action": "lambda:InvokeFunction", "Principal": "sns.amazonaws.com", "SourceArn": cloudfrontorigin.TopicArn,
			})
			// AND it runs once at deploy
			tpl.ResourceCountIs(jsii.String(cloudfrontorigin.UpdaterResourceType), jsii.Number(1))
			raw, _ := json.Marshal(tpl.ToJSON())
			if target == cloudfrontorigin.TargetPrefixList {
				tpl.HasResourceProperties(jsii.String("AWS::EC2::PrefixList"), &map[string]any{"AddressFamily": "IPv4", "MaxEntries": 55})
				tpl.HasResourceProperties(jsii.String("AWS::EC2::SecurityGroupIngress"), &map[string]any{
					"SourcePrefixListId": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("OriginPrefixListIPv4")), "PrefixListId"}},
				})
			} else if !strings.Contains(string(raw), `"aws:ResourceTag/securestacks:origin-updater"`) || !strings.Contains(string(raw), `"aws:RequestTag/securestacks:origin-updater"`) {
				// the updater writes only groups that carry its owner tag
				t.Errorf("the updater's group writes are not scoped by tag")
			}
		})
	}
}

func TestVpcOriginMode(t *testing.T) {
	_, stack, _ := newStack()
	o := cloudfrontorigin.NewOrigin(stack, "Origin", &cloudfrontorigin.OriginProps{
		Mode: cloudfrontorigin.ModeVpcOrigin, VpcOriginArn: jsii.String("arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/private/50dc6c495c0c9188"),
	})
	tpl := assertions.Template_FromStack(stack, nil)
	tpl.HasResourceProperties(jsii.String("AWS::CloudFront::VpcOrigin"), &map[string]any{
		"VpcOriginEndpointConfig": map[string]any{"OriginProtocolPolicy": "https-only", "HTTPSPort": 443},
	})
	if o.SecurityGroup != nil || len(o.IngressRules) != 0 {
		t.Error("a VPC origin opens no public rule")
	}
}

func TestInvalidPropsPanicOnOneLine(t *testing.T) {
	_, stack, _ := newStack()
	defer func() {
		msg := fmt.Sprint(recover())
		if !strings.HasPrefix(msg, "cloudfrontorigin: ") || strings.Contains(msg, "\n") || !strings.Contains(msg, "Mode: expected") || !strings.Contains(msg, "Ports: expected") {
			t.Errorf("panic %q", msg)
		}
	}()
	cloudfrontorigin.NewOrigin(stack, "Origin", &cloudfrontorigin.OriginProps{Mode: "Open", Ports: []float64{0}})
}
