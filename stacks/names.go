package stacks

import "strings"

// sharedNames are the names an environment's stacks give to resources whose names are unique
// per account and region, keyed by the configuration key that sets each. A default is derived
// from the environment's own name and never collides; two environments that set the same name
// explicitly would, and the second deploy would fail.
func (e Environment) sharedNames() map[string]string {
	names := map[string]string{}
	// The AppStream stack, fleet, notebook and scripts-bucket parameter are all named after it;
	// SageMaker notebook names compare without case.
	names["appStreamSandbox.environmentName"] = strings.ToLower(*e.AppStreamSandbox.props(e).EnvironmentName)
	if c := e.DevSecOps; c == nil || (c.ExistingRepository == "" && c.Connection == nil) {
		name := e.Name + "-sample-app"
		if c != nil && c.RepositoryName != "" {
			name = c.RepositoryName
		}
		names["devSecOps.repositoryName"] = name
	}
	return names
}

// checkSharedNames refuses two environments of one account and region that give the same name
// to such a resource, naming the key and the other environment.
func checkSharedNames(cfg *Config) error {
	owner := map[string]string{} // account/region/key/name -> environment
	for _, name := range sortedKeys(cfg.Environments) {
		env := cfg.Environments[name]
		if env.Account == "" || env.Region == "" {
			continue
		}
		names := env.sharedNames()
		for _, key := range sortedKeys(names) {
			id := env.Account + "/" + env.Region + "/" + key + "/" + names[key]
			if other, taken := owner[id]; taken {
				return errorf("environments."+name+"."+key, "expected a name no other environment of account %s in %s uses, got %q, which environments.%s uses too", env.Account, env.Region, names[key], other)
			}
			owner[id] = name
		}
	}
	return nil
}
