package mtlssecret

// CertificateValidityDays is the validity of every ACM private certificate
// (13 months): "The end date of the signing CA certificate must exceed the
// end date of the requested certificate, or else the certificate request
// will fail"
// (https://docs.aws.amazon.com/acm/latest/userguide/private-certificates.title.html).
// The gateway's client certificate, issued by AWS Private CA directly, gets
// the same validity. constructs/mtls and `securestacks pca import` share it.
const CertificateValidityDays = 395

// DefaultRenewBeforeDays is how long before expiry a certificate is renewed
// by default: ACM's default DaysBeforeExpiry.
const DefaultRenewBeforeDays = 45

// CaRenewalMarginDays is the time left between the first warning that an
// issuing CA ends (CertificateValidityDays + CaRenewalMarginDays days before)
// and the day it can no longer issue or renew a certificate: enough to
// create and activate a new hierarchy, or to have an external root re-sign
// the subordinate.
const CaRenewalMarginDays = 90

// MinIssuingCaValidityDays is the shortest issuing-CA validity that lets the
// first certificate be issued and renewed renewBeforeDays before it ends:
// one certificate validity, the renewal window and CaRenewalMarginDays.
func MinIssuingCaValidityDays(renewBeforeDays float64) float64 {
	return CertificateValidityDays + renewBeforeDays + CaRenewalMarginDays
}
