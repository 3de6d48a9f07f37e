// Package cloudfrontorigin restricts an origin (an ALB, NLB or EC2 instance) to CloudFront: by
// AWS's managed prefix list (default), as a CloudFront VPC origin, or with the origin updater
// Lambda that keeps the ranges of ip-ranges.json in a prefix list or in security-group rules.
package cloudfrontorigin

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/securestacks/securestacks/constructs/gofunction"
	"github.com/securestacks/securestacks/constructs/internal/customresource"
	"github.com/securestacks/securestacks/constructs/internal/defaults"
	"github.com/securestacks/securestacks/internal/nag"
	"github.com/securestacks/securestacks/internal/origincontract"
)

// Handler import paths, built by GoFunction in the app's module.
const (
	UpdaterHandlerEntry    = "github.com/securestacks/securestacks/lambda-src/origin-updater"
	PrefixListHandlerEntry = "github.com/securestacks/securestacks/lambda-src/origin-prefix-list"
)

// Custom resource types.
const (
	UpdaterResourceType    = "Custom::OriginUpdater"
	PrefixListResourceType = "Custom::ManagedPrefixListId"
)

// TopicArn is AWS's AmazonIpSpaceChanged topic, in us-east-1.
const TopicArn = origincontract.TopicArn

// Origin restricts an origin to CloudFront.
type Origin struct {
	constructs.Construct
	// Mode is the mode in force.
	Mode Mode
	// SecurityGroup holds the rules: ExistingSecurityGroup or the group made (ModePrefixList,
	// ModeUpdater). Attach it to the origin when the construct made it.
	SecurityGroup awsec2.ISecurityGroup
	// IngressRules are the prefix-list rules, one per port and IP version.
	IngressRules []awsec2.CfnSecurityGroupIngress
	// PrefixListIds are the lists the rules reference: [IPv4] or [IPv4, IPv6].
	PrefixListIds []*string
	// LookupResource resolves the managed lists' IDs at deploy (nil when PrefixListIds was given).
	LookupResources []awscdk.CustomResource
	// PrefixLists are the updater's customer-managed lists (prefix-list target).
	PrefixLists []awsec2.CfnPrefixList
	// UpdaterFunction, UpdaterRole and UpdaterPolicy: the origin-updater Lambda (ModeUpdater).
	UpdaterFunction *gofunction.GoFunction
	UpdaterRole     awsiam.Role
	UpdaterPolicy   awsiam.ManagedPolicy
	// Subscription subscribes UpdaterFunction to TopicArn, in us-east-1.
	Subscription awssns.CfnSubscription
	// UpdaterResource runs the updater once at every deploy.
	UpdaterResource awscdk.CustomResource
	// VpcOrigin is the CloudFront VPC origin (ModeVpcOrigin): use its AttrId in the
	// distribution's VpcOriginConfig.
	VpcOrigin awscloudfront.CfnVpcOrigin

	// LogsKey encrypts the log groups of the construct's functions: OriginProps.LogsKey or the
	// key made for them (nil while no function exists).
	LogsKey awskms.IKey
	weight  int
}

// RuleWeight is what each of IngressRules counts against its group's rules-per-group quota:
// PrefixListWeight for AWS's lists, MaxEntries for the updater's, 0 when there is no rule.
func (o *Origin) RuleWeight() float64 { return float64(o.weight) }

// NewOrigin defines an Origin at scope/id. Invalid props panic with one line per problem,
// prefixed "cloudfrontorigin:".
func NewOrigin(scope constructs.Construct, id string, props *OriginProps) *Origin {
	if props == nil {
		props = &OriginProps{}
	}
	if err := props.Validate(); err != nil {
		panic(strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	o := &Origin{Mode: props.Mode}
	if o.Mode == "" {
		o.Mode = ModePrefixList
	}
	constructs.NewConstruct_Override(o, scope, jsii.String(id))
	o.LogsKey = props.LogsKey
	ports := props.Ports
	if len(ports) == 0 {
		ports = []float64{443}
	}
	quota := props.RulesPerGroup
	if quota == 0 {
		quota = DefaultRulesPerGroup
	}

	switch o.Mode {
	case ModeVpcOrigin:
		o.newVpcOrigin(props, ports)
		return o
	case ModePrefixList:
		o.SecurityGroup = o.group(props)
		o.PrefixListIds = props.PrefixListIds
		if len(o.PrefixListIds) == 0 {
			o.PrefixListIds = []*string{o.lookup("LookupIPv4", PrefixListName)}
			if props.DualStack {
				o.PrefixListIds = append(o.PrefixListIds, o.lookup("LookupIPv6", IPv6PrefixListName))
			}
		}
		o.addRules(ports, props.DualStack, PrefixListWeight)
		o.Node().AddValidation(&weightCheck{origin: o, weight: PrefixListWeight, quota: int(quota)})
	case ModeUpdater:
		o.newUpdater(props, ports, int(quota))
	}
	return o
}

func (o *Origin) group(props *OriginProps) awsec2.ISecurityGroup {
	if props.ExistingSecurityGroup != nil {
		return props.ExistingSecurityGroup
	}
	return awsec2.NewSecurityGroup(o, jsii.String("SecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              props.ExistingVpc,
		Description:      jsii.String("CloudFront origin-facing servers only"),
		AllowAllOutbound: jsii.Bool(true),
	})
}

// addRules adds one rule per port that references each list in PrefixListIds.
func (o *Origin) addRules(ports []float64, dualStack bool, weight int) {
	o.weight = weight
	families := []string{"IPv4", "IPv6"}
	for i, pl := range o.PrefixListIds {
		if i == 1 && !dualStack {
			break
		}
		for _, port := range ports {
			o.IngressRules = append(o.IngressRules, awsec2.NewCfnSecurityGroupIngress(o, jsii.String(fmt.Sprintf("From%s%d", families[i], int(port))), &awsec2.CfnSecurityGroupIngressProps{
				GroupId:            o.SecurityGroup.SecurityGroupId(),
				IpProtocol:         jsii.String("tcp"),
				FromPort:           jsii.Number(port),
				ToPort:             jsii.Number(port),
				SourcePrefixListId: pl,
				Description:        jsii.String(fmt.Sprintf("CloudFront origin-facing %s, tcp/%d (prefix-list weight %d)", families[i], int(port), weight)),
			}))
		}
	}
}

func (o *Origin) logs() awskms.IKey {
	if o.LogsKey == nil {
		o.LogsKey = defaults.LogsKey(o, "LogsKey")
	}
	return o.LogsKey
}

// lookup resolves an AWS-managed list's ID in the stack's region at deploy.
func (o *Origin) lookup(id, name string) *string {
	fn := o.Node().TryFindChild(jsii.String("LookupFunction"))
	var provider customresources.Provider
	if fn == nil {
		logGroup := defaults.LogGroup(o, "LookupFunctionLogGroup", &awslogs.LogGroupProps{EncryptionKey: o.logs()})
		role := awsiam.NewRole(o, jsii.String("LookupRole"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("Looks up the regional ID of CloudFront's managed prefix lists"),
		})
		policy := awsiam.NewManagedPolicy(o, jsii.String("LookupPolicy"), &awsiam.ManagedPolicyProps{
			Description: jsii.String("DescribeManagedPrefixLists, and its logs"),
			Roles:       &[]awsiam.IRole{role},
			Statements: &[]awsiam.PolicyStatement{
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Sid: jsii.String("DescribePrefixLists"), Actions: jsii.Strings("ec2:DescribeManagedPrefixLists"), Resources: jsii.Strings("*"),
				}),
				awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Sid: jsii.String("Logs"), Actions: jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"), Resources: jsii.Strings(*logGroup.LogGroupArn()),
				}),
			},
		})
		nag.Suppress(policy, nag.Rule{ID: "AwsSolutions-IAM5", Reason: "ec2:DescribeManagedPrefixLists supports no resource-level permissions (Service Authorization Reference), so it is granted on *", AppliesTo: []string{"Resource::*"}})
		f := gofunction.NewGoFunction(o, "LookupFunction", &gofunction.GoFunctionProps{
			Entry: jsii.String(PrefixListHandlerEntry),
			FunctionProps: &awslambda.FunctionProps{
				Description: jsii.String("Resolves CloudFront's managed prefix list IDs (custom resource)"),
				Role:        role.WithoutPolicyUpdates(nil),
				LogGroup:    logGroup,
				Timeout:     awscdk.Duration_Minutes(jsii.Number(1)),
				MemorySize:  jsii.Number(128),
				Tracing:     awslambda.Tracing_DISABLED,
			},
		})
		f.Node().AddDependency(policy)
		customresource.SuppressHandler(f, "Calls only the EC2 public API and reaches no VPC resource; a VPC would add endpoints or NAT and no isolation")
		provider = customresource.NewProvider(o, "LookupProvider", f, o.logs())
	} else {
		provider = o.Node().FindChild(jsii.String("LookupProvider")).(customresources.Provider)
	}
	r := awscdk.NewCustomResource(o, jsii.String(id), &awscdk.CustomResourceProps{
		ServiceToken: provider.ServiceToken(),
		ResourceType: jsii.String(PrefixListResourceType),
		Properties:   &map[string]any{"PrefixListName": name},
	})
	o.LookupResources = append(o.LookupResources, r)
	return r.GetAttString(jsii.String("PrefixListId"))
}

func (o *Origin) newVpcOrigin(props *OriginProps, ports []float64) {
	name := props.VpcOriginName
	if name == nil {
		name = awscdk.Names_UniqueResourceName(o, &awscdk.UniqueResourceNameOptions{MaxLength: jsii.Number(64)})
	}
	https := 443.0
	for _, p := range ports {
		if p != 80 {
			https = p
		}
	}
	o.VpcOrigin = awscloudfront.NewCfnVpcOrigin(o, jsii.String("VpcOrigin"), &awscloudfront.CfnVpcOriginProps{
		VpcOriginEndpointConfig: &awscloudfront.CfnVpcOrigin_VpcOriginEndpointConfigProperty{
			Arn:                  props.VpcOriginArn,
			Name:                 name,
			HttpPort:             jsii.Number(80),
			HttpsPort:            jsii.Number(https),
			OriginProtocolPolicy: jsii.String("https-only"),
			OriginSslProtocols:   jsii.Strings("TLSv1.2"),
		},
	})
}

func (o *Origin) newUpdater(props *OriginProps, ports []float64, quota int) {
	stack := awscdk.Stack_Of(o)
	target := props.UpdaterTarget
	if target == "" {
		target = TargetPrefixList
	}
	maxEntries := props.MaxEntries
	if maxEntries == 0 {
		maxEntries = DefaultMaxEntries
	}
	name := *awscdk.Names_UniqueResourceName(o, &awscdk.UniqueResourceNameOptions{MaxLength: jsii.Number(60)})
	ownerTag := &awscdk.CfnTag{Key: jsii.String(origincontract.OwnerTagKey), Value: jsii.String(name)}
	vpcArn := stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("ec2"), Resource: jsii.String("vpc"), ResourceName: props.ExistingVpc.VpcId()})

	env := map[string]*string{
		"TARGET": jsii.String(target),
		"NAME":   jsii.String(name),
		"PORTS":  jsii.String(joinPorts(ports)),
	}
	if props.Service != nil {
		env["SERVICE"] = props.Service
	}
	if props.IpRangesRegion != nil {
		env["IP_RANGES_REGION"] = props.IpRangesRegion
	}
	if props.DryRun {
		env["DRY_RUN"] = jsii.String("true")
	}
	logGroup := defaults.LogGroup(o, "UpdaterLogGroup", &awslogs.LogGroupProps{EncryptionKey: o.logs()})
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("Logs"), Actions: jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"), Resources: jsii.Strings(*logGroup.LogGroupArn()),
		}),
	}
	owned := map[string]any{"aws:ResourceTag/" + origincontract.OwnerTagKey: name}
	var wildcard []string
	switch target {
	case TargetPrefixList:
		o.SecurityGroup = o.group(props)
		families := []string{"IPv4"}
		if props.DualStack {
			families = append(families, "IPv6")
		}
		var arns []*string
		for _, fam := range families {
			pl := awsec2.NewCfnPrefixList(o, jsii.String("PrefixList"+fam), &awsec2.CfnPrefixListProps{
				AddressFamily:  jsii.String(fam),
				MaxEntries:     jsii.Number(maxEntries),
				PrefixListName: jsii.String(name + "-" + strings.ToLower(fam)),
				Tags:           &[]*awscdk.CfnTag{ownerTag},
			})
			o.PrefixLists = append(o.PrefixLists, pl)
			o.PrefixListIds = append(o.PrefixListIds, pl.AttrPrefixListId())
			arns = append(arns, pl.AttrArn())
		}
		ids := make([]string, len(o.PrefixListIds))
		for i, id := range o.PrefixListIds {
			ids[i] = *id
		}
		env["PREFIX_LIST_IDS"] = awscdk.Fn_Join(jsii.String(","), jsii.Strings(ids...))
		o.addRules(ports, props.DualStack, int(maxEntries))
		o.Node().AddValidation(&weightCheck{origin: o, weight: int(maxEntries), quota: quota})
		statements = append(statements,
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("DescribePrefixLists"), Actions: jsii.Strings("ec2:DescribeManagedPrefixLists"), Resources: jsii.Strings("*"),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("ChangeTheOwnedLists"), Actions: jsii.Strings("ec2:GetManagedPrefixListEntries", "ec2:ModifyManagedPrefixList", "ec2:CreateTags"),
				Resources: &arns,
			}),
		)
		wildcard = append(wildcard, "Resource::*")
	case TargetSecurityGroups:
		sg := awsec2.NewSecurityGroup(o, jsii.String("RangesGroup"), &awsec2.SecurityGroupProps{
			Vpc:              props.ExistingVpc,
			Description:      jsii.String("CloudFront ranges, kept by the origin updater"),
			AllowAllOutbound: jsii.Bool(false),
		})
		awscdk.Tags_Of(sg).Add(jsii.String(origincontract.OwnerTagKey), jsii.String(name), nil)
		o.SecurityGroup = sg
		if props.ExistingConnectable != nil {
			props.ExistingConnectable.Connections().AddSecurityGroup(sg)
		}
		env["GROUP_ID"] = sg.SecurityGroupId()
		env["VPC_ID"] = props.ExistingVpc.VpcId()
		// Pseudo parameters rather than the stack's env, so the wildcard reads the same in
		// every environment (and its suppression below matches).
		arn := func(resource string) *string {
			return jsii.String(fmt.Sprintf("arn:%s:ec2:%s:%s:%s/*", *awscdk.Aws_PARTITION(), *awscdk.Aws_REGION(), *awscdk.Aws_ACCOUNT_ID(), resource))
		}
		groupArn, eniArn := arn("security-group"), arn("network-interface")
		statements = append(statements,
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("Describe"), Actions: jsii.Strings("ec2:DescribeSecurityGroups", "ec2:DescribeNetworkInterfaces"), Resources: jsii.Strings("*"),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("ChangeOwnedGroupRules"), Actions: jsii.Strings("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:CreateTags"),
				Resources: jsii.Strings(*groupArn), Conditions: &map[string]any{"StringEquals": owned},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("CreateTaggedGroups"), Actions: jsii.Strings("ec2:CreateSecurityGroup", "ec2:CreateTags"),
				Resources:  jsii.Strings(*groupArn),
				Conditions: &map[string]any{"StringEquals": map[string]any{"aws:RequestTag/" + origincontract.OwnerTagKey: name}},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("CreateGroupsInTheVpc"), Actions: jsii.Strings("ec2:CreateSecurityGroup"), Resources: jsii.Strings(*vpcArn),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("AttachGroupsInTheVpc"), Actions: jsii.Strings("ec2:ModifyNetworkInterfaceAttribute"),
				Resources:  jsii.Strings(*eniArn, *groupArn),
				Conditions: &map[string]any{"ArnEquals": map[string]any{"ec2:Vpc": vpcArn}},
			}),
		)
		wildcard = append(wildcard, "Resource::*", "Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group/*",
			"Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*")
	}

	o.UpdaterRole = awsiam.NewRole(o, jsii.String("UpdaterRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Keeps an origin's allow list equal to AWS's published ranges"),
	})
	o.UpdaterPolicy = awsiam.NewManagedPolicy(o, jsii.String("UpdaterPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("The origin updater: describe, and change only what carries its owner tag"),
		Roles:       &[]awsiam.IRole{o.UpdaterRole},
		Statements:  &statements,
	})
	nag.Suppress(o.UpdaterPolicy, nag.Rule{ID: "AwsSolutions-IAM5",
		Reason: "EC2 Describe* and DescribeManagedPrefixLists support no resource-level permissions; group writes are on security-group/* only where the owner tag matches (or is requested at creation), and attachments on network interfaces only in the origin's VPC (ec2:Vpc)", AppliesTo: wildcard})
	o.UpdaterFunction = gofunction.NewGoFunction(o, "UpdaterFunction", &gofunction.GoFunctionProps{
		Entry: jsii.String(UpdaterHandlerEntry),
		FunctionProps: &awslambda.FunctionProps{
			Description: jsii.String("Applies AWS's ip-ranges.json to the origin's allow list (AmazonIpSpaceChanged, and at deploy)"),
			Role:        o.UpdaterRole.WithoutPolicyUpdates(nil),
			LogGroup:    logGroup,
			Timeout:     awscdk.Duration_Minutes(jsii.Number(2)),
			MemorySize:  jsii.Number(256),
			Tracing:     awslambda.Tracing_DISABLED,
			Environment: &env,
		},
	})
	o.UpdaterFunction.Node().AddDependency(o.UpdaterPolicy)
	customresource.SuppressHandler(o.UpdaterFunction, "Calls the EC2 public API and fetches ip-ranges.json from ip-ranges.amazonaws.com; a VPC would need NAT for that fetch and adds no isolation")

	// AWS's topic lives in us-east-1: the subscription is made there (Region), and only that
	// topic may invoke the function (SourceArn).
	perm := awslambda.NewCfnPermission(o, jsii.String("TopicPermission"), &awslambda.CfnPermissionProps{
		Action:       jsii.String("lambda:InvokeFunction"),
		FunctionName: o.UpdaterFunction.FunctionArn(),
		Principal:    jsii.String("sns.amazonaws.com"),
		SourceArn:    jsii.String(TopicArn),
	})
	o.Subscription = awssns.NewCfnSubscription(o, jsii.String("Subscription"), &awssns.CfnSubscriptionProps{
		TopicArn: jsii.String(TopicArn),
		Protocol: jsii.String("lambda"),
		Endpoint: o.UpdaterFunction.FunctionArn(),
		Region:   jsii.String("us-east-1"),
	})
	o.Subscription.Node().AddDependency(perm)

	provider := customresource.NewProvider(o, "UpdaterProvider", o.UpdaterFunction, o.logs())
	o.UpdaterResource = awscdk.NewCustomResource(o, jsii.String("Updater"), &awscdk.CustomResourceProps{
		ServiceToken: provider.ServiceToken(),
		ResourceType: jsii.String(UpdaterResourceType),
		// Any change of what the updater keeps runs it again.
		Properties: &map[string]any{"Target": target, "Ports": joinPorts(ports), "DualStack": strconv.FormatBool(props.DualStack), "PrefixListIds": env["PREFIX_LIST_IDS"], "GroupId": env["GROUP_ID"]},
	})
	o.UpdaterResource.Node().AddDependency(o.UpdaterPolicy)
	for _, r := range o.IngressRules {
		o.UpdaterResource.Node().AddDependency(r)
	}
}

func joinPorts(ports []float64) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ",")
}
