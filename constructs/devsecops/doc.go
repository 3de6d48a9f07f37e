// Package devsecops is the DevSecOps CodePipeline of the AWS DevOps blog posts "Building
// end-to-end AWS DevSecOps CI/CD pipeline with open source SCA, SAST and DAST tools" and
// "Building an end-to-end Kubernetes-based DevSecOps software factory on AWS", without the
// flaws of their CloudFormation companions: ARNs use the stack's partition, Security Hub gets
// 100 findings per call with deterministic ids, IAM is scoped, the branch is a prop, every
// severity is counted, rejected findings are reported, and the scanners are pinned by version
// and checksum.
//
// NewPipeline builds the pipeline; ElasticBeanstalkDeploy and EcsDeploy are ready-made deploy
// actions. The findings ingestion Lambda is lambda-src/asff-ingest, built from its import path
// by GoFunction. See README.md.
package devsecops
