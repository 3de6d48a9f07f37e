// Command origin-updater keeps an origin's allow list equal to the ip-ranges.json ranges of one
// service: subscribed to AWS's AmazonIpSpaceChanged topic, and run once at deploy as a custom
// resource. Wiring only: the logic is in internal/originupdate and handler.go.
package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/securestacks/securestacks/internal/originupdate"
	"github.com/securestacks/securestacks/lambda-src/internal/awsconfig"
	"github.com/securestacks/securestacks/lambda-src/internal/awsretry"
	"github.com/securestacks/securestacks/lambda-src/internal/cfnresponse"
	"github.com/securestacks/securestacks/lambda-src/internal/logging"
)

func main() {
	logger := logging.New(os.Stderr)
	cfg := awsconfig.FromEnv(1)
	var ports []int32
	for _, p := range strings.Split(os.Getenv("PORTS"), ",") {
		if n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 16); err == nil {
			ports = append(ports, int32(n))
		}
	}
	var lists []string
	if v := os.Getenv("PREFIX_LIST_IDS"); v != "" {
		lists = strings.Split(v, ",")
	}
	url := os.Getenv("IP_RANGES_URL")
	if url == "" {
		url = originupdate.DefaultURL
	}
	h := &Handler{
		Updater: &originupdate.Updater{
			EC2:           ec2.NewFromConfig(cfg),
			Name:          os.Getenv("NAME"),
			Options:       originupdate.Options{Target: originupdate.Target(os.Getenv("TARGET")), Ports: ports},
			Service:       os.Getenv("SERVICE"),
			Region:        os.Getenv("IP_RANGES_REGION"),
			PrefixListIDs: lists,
			GroupID:       os.Getenv("GROUP_ID"),
			VpcID:         os.Getenv("VPC_ID"),
			Call: func(ctx context.Context, op func(context.Context) error) error {
				return awsretry.Do(ctx, awsretry.Policy{AttemptTimeout: 10e9}, op)
			},
		},
		Fetch:  (&Fetcher{Client: &http.Client{Timeout: FetchTimeout}, AllowedPrefix: allowedPrefix(url)}).Fetch,
		URL:    url,
		DryRun: os.Getenv("DRY_RUN") == "true",
		Logger: logger,
	}
	cfn := cfnresponse.Handler(h, &cfnresponse.Options{Logger: logger})
	lambda.Start(func(ctx context.Context, raw json.RawMessage) (any, error) { return h.Invoke(ctx, raw, cfn) })
}

// allowedPrefix is the scheme and host of url: notifications may name only documents there.
func allowedPrefix(url string) string {
	rest, _ := strings.CutPrefix(url, "https://")
	host, _, _ := strings.Cut(rest, "/")
	return "https://" + host + "/"
}
