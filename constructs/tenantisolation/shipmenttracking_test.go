package tenantisolation_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/securestacks/securestacks/constructs/tenantisolation"
	"github.com/securestacks/securestacks/internal/iamsim"
	"github.com/securestacks/securestacks/internal/rolecoverage"
)

// TestShipmentTrackingProof evaluates the sample's synthesized access role
// for exactly the calls its handler makes with a tenant session (GetItem,
// GetObject and the S3 decrypt of the tenant key), and its service role for
// the same calls.
func TestShipmentTrackingProof(t *testing.T) {
	stack := newStack()
	s := tenantisolation.NewShipmentTracking(stack, "Tracking", &tenantisolation.ShipmentTrackingProps{Tenants: []string{"ab", "abc"}})
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	rt, err := rolecoverage.NewTemplate("TenantTest", rolecoverage.Env{Account: account, Region: region, Partition: "aws"}, doc)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: rt, tenantKey: map[string]string{},
		access:  logicalID(stack, s.Isolation.AccessRole.Node().DefaultChild()),
		service: logicalID(stack, s.ServiceRole.Node().DefaultChild()),
		table:   logicalID(stack, s.Table.Node().DefaultChild()),
		bucket:  logicalID(stack, s.Bucket.Node().DefaultChild()),
	}
	for tenant, k := range s.TenantKeys {
		f.tenantKey[tenant] = logicalID(stack, k.Node().DefaultChild())
	}
	p := newProver(t, f)
	via := map[string]any{"kms:ViaService": "s3." + region + ".amazonaws.com"}
	var proofs []proof
	for _, pair := range [][2]string{{"ab", "abc"}, {"abc", "ab"}} {
		own, other := pair[0], pair[1]
		for _, c := range []struct {
			name   string
			target string
			want   string
		}{{"own", own, iamsim.Allowed}, {"other's", other, iamsim.ImplicitlyDenied}} {
			key := p.data(own, "kms:Decrypt", p.keyArn[c.target], withTag(via, p.keyTag[c.target]))
			key.ResourcePolicy = p.keyPolicy[c.target]
			proofs = append(proofs,
				proof{own + ": GetItem " + c.name, p.data(own, "dynamodb:GetItem", p.tableArn, map[string]any{"dynamodb:LeadingKeys": []string{c.target}}), c.want},
				proof{own + ": GetObject " + c.name, p.data(own, "s3:GetObject", p.bucketArn+"/"+c.target+"/s-1.json", nil), c.want},
				proof{own + ": Decrypt " + c.name + " key", key, c.want},
			)
		}
		// The sample grants reads only.
		proofs = append(proofs,
			proof{own + ": PutItem", p.data(own, "dynamodb:PutItem", p.tableArn, map[string]any{"dynamodb:LeadingKeys": []string{own}}), iamsim.ImplicitlyDenied},
			proof{own + ": PutObject", p.data(own, "s3:PutObject", p.bucketArn+"/"+own+"/x", map[string]any{"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": "k"}), iamsim.ImplicitlyDenied},
		)
	}
	proofs = append(proofs, p.serviceRoleProofs()[:2]...)
	proofs = append(proofs, proof{"the function's role assumes the access role with the tag",
		p.assume(p.serviceArn, "sts:AssumeRole", map[string]string{"TenantID": "ab"}, nil), iamsim.Allowed})
	run(t, proofs)
}
