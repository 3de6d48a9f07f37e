// Package originupdate keeps an origin's allow list equal to the IP ranges AWS publishes for one
// service (CloudFront's origin-facing servers by default) in ip-ranges.json. It is the one code
// path of the origin-updater Lambda and of `securestacks origin plan`: parse and verify the
// document, select the ranges, read the current state, plan the smallest diff, apply it.
//
// Two targets:
//
//   - TargetPrefixList: a customer-managed prefix list per IP version, changed with one
//     ModifyManagedPrefixList against the list's current version, so every update is atomic.
//   - TargetSecurityGroups: ingress rules in security groups, as the seed's Lambda writes them,
//     spread over extra tagged groups when one group's rule quota is not enough.
//
// Either way the plan authorizes before it revokes, checks every quota before its first
// mutating call (and then changes nothing when one would be exceeded), never applies a document
// older than the last one applied, and is empty when the target already matches.
//
// Formats: https://docs.aws.amazon.com/vpc/latest/userguide/aws-ip-ranges.html (ip-ranges.json)
// and https://docs.aws.amazon.com/vpc/latest/userguide/subscribe-notifications.html
// (the AmazonIpSpaceChanged message).
package originupdate

import (
	"cmp"
	"crypto/md5" //nolint:gosec // AWS publishes an MD5 of the document; it is an integrity check against truncation, not a signature.
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/securestacks/securestacks/internal/origincontract"
)

// TopicArn is AWS's AmazonIpSpaceChanged topic (see origincontract).
const TopicArn = origincontract.TopicArn

// DefaultURL is where AWS publishes ip-ranges.json.
const DefaultURL = "https://ip-ranges.amazonaws.com/ip-ranges.json"

// DefaultService is the ip-ranges.json service of CloudFront's origin-facing servers: the
// addresses that connect to origins, the same set as AWS's managed prefix list
// com.amazonaws.global.cloudfront.origin-facing. ("CLOUDFRONT", which the seed used, also
// holds the viewer-facing edge addresses, which never connect to an origin.)
const DefaultService = "CLOUDFRONT_ORIGIN_FACING"

// GlobalRegion is the region ip-ranges.json gives global services such as CloudFront.
const GlobalRegion = "GLOBAL"

// Document is ip-ranges.json.
type Document struct {
	SyncToken    string       `json:"syncToken"`
	CreateDate   string       `json:"createDate"`
	Prefixes     []IPv4Prefix `json:"prefixes"`
	IPv6Prefixes []IPv6Prefix `json:"ipv6_prefixes"`
}

// IPv4Prefix is one entry of Document.Prefixes.
type IPv4Prefix struct {
	IPPrefix           string `json:"ip_prefix"`
	Region             string `json:"region"`
	Service            string `json:"service"`
	NetworkBorderGroup string `json:"network_border_group"`
}

// IPv6Prefix is one entry of Document.IPv6Prefixes.
type IPv6Prefix struct {
	IPv6Prefix         string `json:"ipv6_prefix"`
	Region             string `json:"region"`
	Service            string `json:"service"`
	NetworkBorderGroup string `json:"network_border_group"`
}

// ParseDocument decodes ip-ranges.json and checks its syncToken.
func ParseDocument(b []byte) (*Document, error) {
	var d Document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("ip-ranges.json: %w", err)
	}
	if _, err := parseToken(d.SyncToken); err != nil {
		return nil, fmt.Errorf("ip-ranges.json syncToken: %w", err)
	}
	return &d, nil
}

// Notification is the Message of an AmazonIpSpaceChanged SNS notification.
type Notification struct {
	CreateTime string `json:"create-time"`
	SyncToken  string `json:"synctoken"`
	MD5        string `json:"md5"`
	URL        string `json:"url"`
}

// ParseNotification decodes an AmazonIpSpaceChanged message and checks that it names an https
// URL and an MD5.
func ParseNotification(message string) (Notification, error) {
	var n Notification
	if err := json.Unmarshal([]byte(message), &n); err != nil {
		return Notification{}, fmt.Errorf("AmazonIpSpaceChanged message: %w", err)
	}
	switch {
	case !strings.HasPrefix(n.URL, "https://"):
		return Notification{}, fmt.Errorf("AmazonIpSpaceChanged message url: expected an https URL, got %q", n.URL)
	case len(n.MD5) != 32:
		return Notification{}, fmt.Errorf("AmazonIpSpaceChanged message md5: expected 32 hex digits, got %q", n.MD5)
	}
	return n, nil
}

// ErrMD5Mismatch is returned by VerifyMD5 when the document is not the one the message announced.
var ErrMD5Mismatch = errors.New("MD5 mismatch")

// VerifyMD5 checks body against the hex MD5 the notification carries.
func VerifyMD5(body []byte, want string) error {
	sum := md5.Sum(body) //nolint:gosec // see the import
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, want) {
		return fmt.Errorf("ip-ranges.json: %w: got %s, expected %s", ErrMD5Mismatch, got, want)
	}
	return nil
}

// parseToken reads a syncToken: the document's publication time in Unix seconds.
func parseToken(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("expected Unix seconds such as 1700000000, got %q", s)
	}
	return n, nil
}

// CompareTokens orders two syncTokens as cmp.Compare does; the empty token (nothing applied
// yet) is older than every other.
func CompareTokens(a, b string) (int, error) {
	switch {
	case a == b:
		return 0, nil
	case a == "":
		return -1, nil
	case b == "":
		return 1, nil
	}
	x, err := parseToken(a)
	if err != nil {
		return 0, err
	}
	y, err := parseToken(b)
	if err != nil {
		return 0, err
	}
	return cmp.Compare(x, y), nil
}

// Ranges are the selected CIDRs, sorted and without duplicates.
type Ranges struct {
	V4 []netip.Prefix
	V6 []netip.Prefix
}

// Len is the number of CIDRs of both versions.
func (r Ranges) Len() int { return len(r.V4) + len(r.V6) }

// ErrNoRanges is returned by Select when the service has no range in the region: applying an
// empty set would cut the origin off, which is never what a change of AWS's ranges means.
var ErrNoRanges = errors.New("no ranges")

// Select returns the ranges of service in region (GlobalRegion for CloudFront). A prefix that
// does not parse is an error: the document is not what AWS publishes.
func (d *Document) Select(service, region string) (Ranges, error) {
	if service == "" {
		return Ranges{}, errors.New("service: expected an ip-ranges.json service such as " + DefaultService + ", got none")
	}
	if region == "" {
		region = GlobalRegion
	}
	var r Ranges
	for _, p := range d.Prefixes {
		if p.Service != service || p.Region != region {
			continue
		}
		pfx, err := netip.ParsePrefix(p.IPPrefix)
		if err != nil || !pfx.Addr().Is4() {
			return Ranges{}, fmt.Errorf("ip-ranges.json prefixes: expected an IPv4 CIDR, got %q", p.IPPrefix)
		}
		r.V4 = append(r.V4, pfx.Masked())
	}
	for _, p := range d.IPv6Prefixes {
		if p.Service != service || p.Region != region {
			continue
		}
		pfx, err := netip.ParsePrefix(p.IPv6Prefix)
		if err != nil || !pfx.Addr().Is6() {
			return Ranges{}, fmt.Errorf("ip-ranges.json ipv6_prefixes: expected an IPv6 CIDR, got %q", p.IPv6Prefix)
		}
		r.V6 = append(r.V6, pfx.Masked())
	}
	r.V4, r.V6 = sortPrefixes(r.V4), sortPrefixes(r.V6)
	if r.Len() == 0 {
		return Ranges{}, fmt.Errorf("service %s in region %s: %w in the document (syncToken %s); refusing to remove every rule", service, region, ErrNoRanges, d.SyncToken)
	}
	return r, nil
}

func sortPrefixes(p []netip.Prefix) []netip.Prefix {
	slices.SortFunc(p, comparePrefix)
	return slices.Compact(p)
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}
