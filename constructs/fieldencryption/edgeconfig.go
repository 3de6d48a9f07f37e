package fieldencryption

// EdgeField is one rule of the edge encrypter: a member Name (matched at any
// depth of a JSON body, and as a form field name) or a JSON Path ($.a.b,
// $[*].c, $.items[2].d, $["e-mail"]), never both. Key is the id of the
// public key that encrypts it, default "01".
type EdgeField struct {
	Name string `json:"name,omitempty"`
	Path string `json:"path,omitempty"`
	Key  string `json:"key,omitempty"`
}

// EdgeConfig is the edge encrypter's config.json, written into its bundle at
// synth (Lambda@Edge has no environment variables).
type EdgeConfig struct {
	// Keys maps a key id (two digits other than 00 and 10) to the PEM of an
	// RSA public key (SubjectPublicKeyInfo, as KMS GetPublicKey publishes it).
	Keys map[string]string `json:"keys"`
	// Fields are the rules; a value matched by several takes the key of the
	// first path rule, else of its name rule.
	Fields []EdgeField `json:"fields"`
	// Methods whose bodies are encrypted. Default POST, PUT, PATCH. A
	// request of another method with a body is refused (405).
	Methods []string `json:"methods,omitempty"`
	// ContentTypes accepted, media types only. Default application/json and
	// application/x-www-form-urlencoded. Anything else is refused (415).
	ContentTypes []string `json:"contentTypes,omitempty"`
}
