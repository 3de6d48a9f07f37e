package cloudfrontorigin

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// weightCheck fails synth when the group's inbound rules, counting each of our prefix-list
// rules by its weight, exceed the rules-per-group quota of either IP version. AWS refuses such
// a rule at deploy ("You can't add a prefix list to a security group rule if the number of
// rules plus the max entries for the prefix list exceeds the quota":
// https://docs.aws.amazon.com/vpc/latest/userguide/work-with-cust-managed-prefix-lists.html).
type weightCheck struct {
	origin *Origin
	weight int
	quota  int
}

func (w *weightCheck) Validate() *[]*string {
	o := w.origin
	stack := awscdk.Stack_Of(o)
	resolve := func(v any) string {
		b, _ := json.Marshal(stack.Resolve(v))
		return string(b)
	}
	group := resolve(o.SecurityGroup.SecurityGroupId())
	ours := map[string]int{}
	for i, id := range o.PrefixListIds {
		ours[resolve(id)] = i
	}
	var v4, v6 int
	count := func(cidr6, prefixList any) {
		switch {
		case present(cidr6):
			v6++
		case present(prefixList):
			if fam, ok := ours[resolve(prefixList)]; ok {
				if fam == 1 {
					v6 += w.weight
				} else {
					v4 += w.weight
				}
				return
			}
			v4++ // another list: its weight is unknown at synth; count one
		default:
			v4++
		}
	}
	// Inline rules of a group made in this app.
	if cfn, ok := o.SecurityGroup.Node().DefaultChild().(awsec2.CfnSecurityGroup); ok && cfn != nil {
		var inline []map[string]any
		b, _ := json.Marshal(stack.Resolve(cfn.SecurityGroupIngress()))
		_ = json.Unmarshal(b, &inline)
		for _, r := range inline {
			count(r["cidrIpv6"], r["sourcePrefixListId"])
		}
	}
	// Separate ingress resources anywhere in the stack that name the group.
	for _, c := range *stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		in, ok := c.(awsec2.CfnSecurityGroupIngress)
		if !ok || resolve(in.GroupId()) != group {
			continue
		}
		count(in.CidrIpv6(), in.SourcePrefixListId())
	}
	var errs []*string
	for _, c := range []struct {
		fam string
		n   int
	}{{"IPv4", v4}, {"IPv6", v6}} {
		if c.n > w.quota {
			errs = append(errs, jsii.String(fmt.Sprintf("cloudfrontorigin: security group %s: %d %s inbound rules counting each prefix-list rule by its weight %d, over the quota of %d rules per group; use fewer Ports, another group, or set RulesPerGroup to your raised quota",
				*o.SecurityGroup.Node().Path(), c.n, c.fam, w.weight, w.quota)))
		}
	}
	return &errs
}

// present reports a value that is set: jsii getters return typed nil pointers for unset
// properties, which compare unequal to nil inside an interface.
func present(v any) bool {
	if v == nil {
		return false
	}
	rv := reflect.ValueOf(v)
	return !(rv.Kind() == reflect.Pointer && rv.IsNil())
}
