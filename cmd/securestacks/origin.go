package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/securestacks/securestacks/internal/originupdate"
)

// originCommands is the origin group: the CloudFront origin updater's plan, offline.
var originCommands = []command{
	{name: "plan", summary: "print the origin updater's plan for an ip-ranges.json, offline", run: runOriginPlan},
}

func runOriginPlan(args []string, stdout, stderr io.Writer) int {
	const where = "origin plan"
	fs := newFlagSet(where)
	ranges := fs.String("ip-ranges", "", "ip-ranges.json to plan (required)")
	service := fs.String("service", originupdate.DefaultService, "ip-ranges.json service")
	region := fs.String("region", originupdate.GlobalRegion, "ip-ranges.json region (GLOBAL for CloudFront)")
	current := fs.String("current", "", "JSON state of the target now, as the updater logs it (default: an empty target)")
	target := fs.String("target", string(originupdate.TargetPrefixList), "prefix-list or security-groups")
	ports := fs.String("ports", "443", "comma-separated TCP ports (security-groups)")
	maxEntries := fs.Int("max-entries", 60, "MaxEntries of each prefix list of the empty target (prefix-list, without --current)")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	if done, code := parseFlags(fs, args, prog+" origin plan --ip-ranges FILE [--service S] [--region R] [--current FILE] [--target prefix-list|security-groups]",
		"Print the steps the origin updater would take to make the target hold exactly the ranges of\n"+
			"the service in the document: the same code as the Lambda's dry run, with no AWS call.", stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(stderr, where, "unexpected argument %q; pass the document with --ip-ranges", fs.Arg(0))
	}
	if *ranges == "" {
		return usageError(stderr, where, "--ip-ranges: expected an ip-ranges.json file")
	}
	opts := originupdate.Options{Target: originupdate.Target(*target)}
	for _, p := range strings.Split(*ports, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 16)
		if err != nil || n == 0 {
			return usageError(stderr, where, "--ports: expected TCP ports such as 80,443, got %q", *ports)
		}
		opts.Ports = append(opts.Ports, int32(n))
	}
	body, err := readInput(*ranges)
	if err != nil {
		return failure(stderr, where, err)
	}
	doc, err := originupdate.ParseDocument(body)
	if err != nil {
		return failure(stderr, where, err)
	}
	want, err := doc.Select(*service, *region)
	if err != nil {
		return failure(stderr, where, err)
	}
	st := originupdate.State{
		PrefixLists: []originupdate.PrefixList{{ID: "pl-ipv4", AddressFamily: "IPv4", MaxEntries: *maxEntries}, {ID: "pl-ipv6", AddressFamily: "IPv6", MaxEntries: *maxEntries}},
		Groups:      []originupdate.Group{{ID: "sg-first"}},
	}
	if *current != "" {
		b, err := os.ReadFile(*current)
		if err != nil {
			return failure(stderr, where, err)
		}
		st = originupdate.State{}
		if err := json.Unmarshal(b, &st); err != nil {
			return failure(stderr, where, fmt.Errorf("--current %s: %w", *current, err))
		}
	}
	plan, err := originupdate.NewPlan(opts, st, want, doc.SyncToken)
	if err != nil {
		return failure(stderr, where, err)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(plan, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	fmt.Fprint(stdout, plan.String())
	return exitOK
}
