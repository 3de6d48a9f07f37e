// Package appstreamsandbox provides Sandbox: an isolated AppStream 2.0 data sandbox. It holds a
// VPC without any route to the internet (isolated subnets, VPC endpoints limited to this
// account), an AppStream fleet and stack with clipboard-out, file transfer and printing
// disabled, a SageMaker notebook, and a session validator that hands out presigned notebook
// URLs only to sessions AppStream confirms. It is a Go port of the AWS Security blog post
// "Mitigate data leakage through the use of AppStream 2.0 and end-to-end auditing", with the
// fixes listed in README.md.
package appstreamsandbox
