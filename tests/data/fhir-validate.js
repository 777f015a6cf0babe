// Run the npm `fhir` package's validator (argv[2]: its directory) on a JSON resource (argv[3]);
// print its messages as JSON. Used by tests/test_fhir_conformance.py.
const { Fhir } = require(process.argv[2]);
const resource = JSON.parse(require("fs").readFileSync(process.argv[3], "utf8"));
const result = new Fhir().validate(resource, { errorOnUnexpected: true });
process.stdout.write(JSON.stringify(result.messages));
