//go:build securestacks.handlers

package tenantisolation

import (
	_ "github.com/securestacks/securestacks/lambda-src/tenant-shipment-tracking"
)
