package devsecops

// Pinned scanner releases. The generated buildspecs download each archive and check it with
// `sha256sum --check --strict` against these constants before extracting anything, and run
// container scanners only by digest, so a re-tagged or tampered release fails the build
// instead of running.
//
// HOW THE CHECKSUMS WERE OBTAINED. This code was written on a machine without internet access
// (only the Go module proxy, npm and Debian mirrors), so no archive was downloaded and hashed
// here. Each value below was taken from public, independent sources that pin the same release
// and agree on the digest (searched in a corpus of public repositories); the source is named on
// each constant. They are NOT verified by us against the upstream release. Before the first
// deployment, confirm every value against the project's own published checksums file (or
// cosign signature), for example:
//
//	curl -fsSL https://github.com/aquasecurity/trivy/releases/download/v0.69.3/trivy_0.69.3_checksums.txt | grep Linux-64bit.tar.gz
//	docker buildx imagetools inspect semgrep/semgrep:1.177.0   # compare the index digest
//
// A wrong constant cannot run a tampered binary: it only makes the build fail at the check.
//
// Trivy is pinned to v0.69.3 and must never be moved to v0.69.4: the v0.69.4 release artefacts
// were the malicious ones of the March 2026 supply-chain compromise (CVE-2026-33634). The
// tests refuse any Trivy version above 0.69.3 until this file is revisited.

// Release is a pinned download.
type Release struct {
	// Tool is the scanner's name.
	Tool string
	// Version is the release version, without a leading "v".
	Version string
	// URL is the linux x86-64 archive (the CodeBuild standard image's architecture).
	URL string
	// SHA256 is the expected digest of the file at URL, lower-case hex.
	SHA256 string
	// ChecksumSource says where SHA256 comes from.
	ChecksumSource string
}

// ContainerImage is a scanner that runs as a container, pinned by digest.
type ContainerImage struct {
	// Tool is the scanner's name.
	Tool string
	// Version is the image tag.
	Version string
	// Reference is repository:tag@sha256:digest; docker pulls by the digest.
	Reference string
	// ChecksumSource says where the digest comes from.
	ChecksumSource string
}

// Pinned releases.
var (
	// Gitleaks is the default secrets scanner.
	//
	// Checksum: unconfirmed by a packaging recipe or by the project (gitleaks has no tap with
	// binaries; Homebrew builds from source). About ten unrelated public pins of this asset
	// agree on it, one stating it matched gitleaks_8.30.1_checksums.txt.
	Gitleaks = Release{
		Tool: "gitleaks", Version: "8.30.1",
		URL:            "https://github.com/gitleaks/gitleaks/releases/download/v8.30.1/gitleaks_8.30.1_linux_x64.tar.gz",
		SHA256:         "551f6fc83ea457d62a0d98237cbad105af8d557003051f41f3e7ca7b3f2470eb",
		ChecksumSource: "several public CI pins of gitleaks_8.30.1_linux_x64.tar.gz agree (one states it hashed the downloaded asset); not verified here",
	}
	// GitSecrets is the alternative secrets scanner (awslabs/git-secrets, a shell script).
	//
	// Checksum confirmed by packaging recipes of this exact archive: the Homebrew git-secrets
	// formula (Formula/g/git-secrets.rb in homebrew-core copies such as zalt50/homebrew-core,
	// url archive/refs/tags/1.3.0.tar.gz), an RPM spec (source0_hash) and an Arch PKGBUILD.
	GitSecrets = Release{
		Tool: "git-secrets", Version: "1.3.0",
		URL:            "https://github.com/awslabs/git-secrets/archive/refs/tags/1.3.0.tar.gz",
		SHA256:         "f1d50c6c5c7564f460ff8d279081879914abe920415c2923934c1f1d1fac3606",
		ChecksumSource: "Homebrew git-secrets formula (mirror) for the 1.3.0 tag archive; GitHub tag archives are generated on request, confirm before use; not verified here",
	}
	// DependencyCheck is OWASP Dependency-Check (≥ 12.1: the NVD API 2.0 client with API key).
	//
	// Checksum confirmed by Homebrew/homebrew-core Formula/d/dependency-check.rb (commit
	// 14133f3), which downloads this URL.
	DependencyCheck = Release{
		Tool: "dependency-check", Version: "12.1.5",
		URL:            "https://github.com/dependency-check/DependencyCheck/releases/download/v12.1.5/dependency-check-12.1.5-release.zip",
		SHA256:         "fd7bc295258f59470c7581290ced28262e8bfe34caa2f29cf5bf0ae8ec34db27",
		ChecksumSource: "Homebrew/homebrew-core Formula/d/dependency-check.rb at version 12.1.5; not verified here",
	}
	// Trivy is the Trivy CLI. Never v0.69.4 (see the file comment).
	//
	// Checksum confirmed by Aqua Security's own GoReleaser-generated tap,
	// aquasecurity/homebrew-trivy trivy.rb (commit 3a7624d, "Brew formula update for trivy
	// version v0.69.3", linux amd64), and by about ten unrelated public pins of this asset.
	Trivy = Release{
		Tool: "trivy", Version: "0.69.3",
		URL:            "https://github.com/aquasecurity/trivy/releases/download/v0.69.3/trivy_0.69.3_Linux-64bit.tar.gz",
		SHA256:         "1816b632dfe529869c740c0913e36bd1629cb7688bd5634f4a858c1d57c88b75",
		ChecksumSource: "four independent public pins agree, one cosign-verified against trivy_0.69.3_checksums.txt; not verified here",
	}
	// Grype is Anchore Grype.
	//
	// Checksum confirmed by Anchore's own GoReleaser-generated tap, anchore/homebrew-grype
	// Casks/grype.rb (commit c22c295, "Brew cask update for grype version v0.110.0", linux
	// amd64), and by the AUR grype-bin PKGBUILD (pkgver 0.110.0).
	Grype = Release{
		Tool: "grype", Version: "0.110.0",
		URL:            "https://github.com/anchore/grype/releases/download/v0.110.0/grype_0.110.0_linux_amd64.tar.gz",
		SHA256:         "aaa98d27d2d7efd9317c6a1ad6d9b15f3e65bab320e7d03bde41e251387bb71c",
		ChecksumSource: "four independent public pins of grype_0.110.0_linux_amd64.tar.gz agree; not verified here",
	}
	// PHPStan is the PHPStan PHAR.
	//
	// Checksum confirmed by Homebrew/homebrew-core Formula/p/phpstan.rb (commit 6dd1edd),
	// which downloads this URL.
	PHPStan = Release{
		Tool: "phpstan", Version: "2.1.52",
		URL:            "https://github.com/phpstan/phpstan/releases/download/2.1.52/phpstan.phar",
		SHA256:         "8b0bd30f210d5df5f0db7f32353aa4a8dedaaf3cf6ae4eea4fc5dc9eac5ea25d",
		ChecksumSource: "Homebrew/homebrew-core Formula/p/phpstan.rb at version 2.1.52; not verified here",
	}
	// SonarScanner is the SonarScanner CLI used with a SonarQube server.
	//
	// Checksum: unconfirmed by a packaging recipe or by SonarSource (its .sha256 files are not
	// in a repository). About eight unrelated public pins agree, two saying they copied
	// SonarSource's published .sha256.
	SonarScanner = Release{
		Tool: "sonar-scanner", Version: "8.1.0.6389",
		URL:            "https://binaries.sonarsource.com/Distribution/sonar-scanner-cli/sonar-scanner-cli-8.1.0.6389-linux-x64.zip",
		SHA256:         "bb8f709f9cb73352f8d1260a3b3c506c0f41146754bc630762c126d795499d0b",
		ChecksumSource: "two independent public pins of sonar-scanner-cli-8.1.0.6389-linux-x64.zip agree; not verified here",
	}

	// Semgrep (SastSemgrep, opt-in) runs from the official image: Semgrep has no standalone
	// binary, and a pip install would pull unpinned dependencies. The image is on Docker Hub
	// only, so give the pipeline DockerHubCredentials to pull it through an ECR pull-through
	// cache; anonymous pulls allow about 10 an hour per IP address, which CodeBuild builds share.
	//
	// Digest: unconfirmed by Semgrep; about ten unrelated public pins of semgrep/semgrep:1.177.0
	// agree, one saying it read the index digest with `docker buildx imagetools inspect`.
	Semgrep = ContainerImage{
		Tool: "semgrep", Version: "1.177.0",
		Reference:      "semgrep/semgrep:1.177.0@sha256:acaac22ffc7b7cc5926de0751b223bce0b2491c33d18422fa72f632c78d81198",
		ChecksumSource: "two independent public pins of semgrep/semgrep:1.177.0 agree; not verified here",
	}
	// Opengrep is the default static analyser: the community fork of Semgrep CE (LGPL-2.1),
	// with the same rule syntax, the same --config values (registry rulesets such as
	// p/default, or a path in the repository) and the same JSON report. Unlike Semgrep it ships
	// one self-contained binary per platform, so the build downloads it over HTTPS and checks it
	// like every other release, instead of pulling a container image from Docker Hub.
	//
	// Checksum: unconfirmed by the Opengrep project here (its releases carry cosign signatures,
	// which this machine cannot fetch); two unrelated public pins of this asset agree.
	Opengrep = Release{
		Tool: "opengrep", Version: "1.29.0",
		URL:            "https://github.com/opengrep/opengrep/releases/download/v1.29.0/opengrep_manylinux_x86",
		SHA256:         "3365ef49d04893e01338d85d9bbd49b2bd5261ad4c9c0df0a6a0f8d44232ae13",
		ChecksumSource: "two independent public pins of opengrep_manylinux_x86 v1.29.0 agree; not verified here",
	}
	// ZAP is ZAP by Checkmarx (the OWASP ZAP project), run from its Linux package on the
	// CodeBuild image's Java (Corretto 21; ZAP needs Java 17 or later), not from its Docker Hub
	// image.
	//
	// Checksum confirmed by the ZAP project itself: ZapVersions.xml in zaproxy/zap-admin (the
	// file ZAP's own check-for-updates reads; commit 2c761c9, 2026-08-21) lists this URL with
	// "SHA-256:efe799aa…" and size 243895361 for the 2.17.0 Linux package.
	ZAP = Release{
		Tool: "zap", Version: "2.17.0",
		URL:            "https://github.com/zaproxy/zaproxy/releases/download/v2.17.0/ZAP_2.17.0_Linux.tar.gz",
		SHA256:         "efe799aaa3627db683b43f00c9c210aea0b75c00cc8f0a0f0434d12bb3ddde5a",
		ChecksumSource: "ZapVersions.xml of the ZAP project (zaproxy/zap-admin), linux entry of release 2.17.0",
	}
)

// Pinned deploy and commercial-scanner downloads.
var (
	// Kubectl is the Kubernetes CLI of EksDeploy. kubectl supports clusters one minor version
	// older or newer than itself (https://kubernetes.io/releases/version-skew-policy/#kubectl),
	// so 1.35 drives EKS 1.34 to 1.36.
	//
	// Checksum: the project publishes it next to the binary, at
	// https://dl.k8s.io/release/v1.35.0/bin/linux/amd64/kubectl.sha256 (not fetched here);
	// about eight unrelated public pins of this URL agree on the value below (Bazel toolchain
	// tables, Dockerfile ARGs, install scripts).
	Kubectl = Release{
		Tool: "kubectl", Version: "1.35.0",
		URL:            "https://dl.k8s.io/release/v1.35.0/bin/linux/amd64/kubectl",
		SHA256:         "a2e984a18a0c063279d692533031c1eff93a262afcc0afdc517375432d060989",
		ChecksumSource: "https://dl.k8s.io/release/v1.35.0/bin/linux/amd64/kubectl.sha256, as eight independent public pins of it agree; not verified here",
	}
	// Snyk is the Snyk CLI (ScaSnyk, SastSnyk): one self-contained binary per platform.
	//
	// Checksum confirmed by a packaging recipe of this exact URL: cashapp/hermit-packages
	// snyk.hcl (commit 0450a73), sha256sums entry for v1.1282.1 snyk-linux. Snyk publishes
	// https://github.com/snyk/cli/releases/download/v1.1282.1/snyk-linux.sha256 next to it.
	// This is the newest version that recipe pins here; move to a newer release together with
	// its published .sha256.
	Snyk = Release{
		Tool: "snyk", Version: "1.1282.1",
		URL:            "https://github.com/snyk/cli/releases/download/v1.1282.1/snyk-linux",
		SHA256:         "48c3661bf9de41f1aff149ca676d57926df73e9dab85d8f6988a48019160ae01",
		ChecksumSource: "cashapp/hermit-packages snyk.hcl sha256sums for v1.1282.1 snyk-linux; not verified here",
	}
)

// Releases lists every pinned download, for tests and documentation.
func Releases() []Release {
	return []Release{Gitleaks, GitSecrets, DependencyCheck, Trivy, Grype, PHPStan, SonarScanner, Opengrep, ZAP, Kubectl, Snyk}
}

// ContainerImages lists every pinned image. Only SastSemgrep, which is opt-in, runs one.
func ContainerImages() []ContainerImage { return []ContainerImage{Semgrep} }
