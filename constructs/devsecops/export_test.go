package devsecops

// The generated scripts, for the tests that run them under bash with fake AWS CLI and docker.
var (
	ECRScanWaiter = ecrScanWaiter
	ImageScript   = imageScript
	SastScript    = sastScript
	SecretsScript = secretsScript
	DastScript    = dastScript
)
