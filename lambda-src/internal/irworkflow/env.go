package irworkflow

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/securestacks/securestacks/internal/incident"
)

// ConfigFromEnv reads the construct's environment. Every missing or bad
// value is one line naming the variable.
func ConfigFromEnv(getenv func(string) string) (Config, string, error) {
	cfg := Config{
		Bucket: getenv(incident.EnvBucket), KMSKeyARN: getenv(incident.EnvKMSKeyARN), BucketOwner: getenv(incident.EnvBucketOwner),
		TopicARN: getenv(incident.EnvTopicARN), Deployment: getenv(incident.EnvDeployment),
		ProtectedTagKey: getenv(incident.EnvProtectedTagKey), ProtectedTagValue: getenv(incident.EnvProtectedTagValue),
		ForensicProfileARN: getenv(incident.EnvForensicProfileARN),
	}
	table := getenv(incident.EnvTable)
	var missing []string
	for name, v := range map[string]string{incident.EnvBucket: cfg.Bucket, incident.EnvTable: table, incident.EnvDeployment: cfg.Deployment} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return Config{}, "", fmt.Errorf("environment: %s not set", strings.Join(missing, ", "))
	}
	if v := getenv(incident.EnvForensicTimeout); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 30 || n > 840 {
			return Config{}, "", fmt.Errorf("environment: %s=%q: expected whole seconds from 30 to 840", incident.EnvForensicTimeout, v)
		}
		cfg.ForensicTimeout = time.Duration(n) * time.Second
	}
	return cfg, table, nil
}
