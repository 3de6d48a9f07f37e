package devsecops

// The generated scripts, for the tests that run them under bash with fake AWS CLI and docker.
var (
	ECRScanWaiter = ecrScanWaiter
	ImageScript   = imageScript
	SastScript    = sastScript
	SecretsScript = secretsScript
	DastScript    = dastScript
)

// DeployScript is the EKS deploy script; Prelude the helpers every buildspec starts with.
var (
	DeployScript = deployScript
	ScaScript    = scaScript
	Prelude      = func() string {
		return buildSpec("", nil, nil)["phases"].(map[string]any)["build"].(map[string]any)["commands"].([]any)[0].(string)
	}
)
