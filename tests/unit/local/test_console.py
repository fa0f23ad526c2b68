"""mlops_ci.local.console: the console shows job results and failures, not act's noise."""

from __future__ import annotations

from mlops_ci.local import console
from mlops_ci.local.act import JobResult

# Lines as act 0.2.89 logs them (--json --verbose), trimmed to the fields that matter.
STEP = {"job": "w.yml/a", "jobID": "a", "level": "info", "msg": "  ✅  Success - Main Check out [12ms]",
        "stepResult": "success"}
OUTPUT = {"job": "w.yml/a", "jobID": "a", "level": "info", "msg": "hi\n", "raw_output": True}
SKIPPED = {"job": "w.yml/b", "jobID": "b", "jobResult": "skipped", "level": "debug",
           "msg": "Skipping job 'b' due to '${{ false }}'"}
MAX_PARALLEL = {"level": "error", "msg": "Failed to parse 'max-parallel' option: strconv.Atoi: parsing "
                                         "\"${{ inputs.max-parallel-experiments }}\": invalid syntax"}
FATAL = {"level": "fatal", "msg": "workflow is not valid"}


def test_results_failures_and_skipped_jobs_are_shown_known_noise_is_not():
    assert all(console.shown(entry, verbose=False) for entry in (STEP, SKIPPED, FATAL))
    assert not console.shown(MAX_PARALLEL, verbose=True)
    assert not console.shown(OUTPUT, verbose=False) and console.shown(OUTPUT, verbose=True)


def test_printer_prefixes_the_job(capsys):
    printer = console.step_printer(verbose=False)
    for entry in (STEP, OUTPUT, SKIPPED, MAX_PARALLEL, FATAL):
        printer(entry)
    assert capsys.readouterr().err.splitlines() == [
        "[a]   ✅  Success - Main Check out [12ms]", "[b] Skipping job 'b' due to '${{ false }}'",
        "[act] workflow is not valid"]


def test_table_lists_every_job_skipped_ones_too():
    jobs = {"pr/train/plan": JobResult("pr/train/plan", "plan", "success", 1.0, 3.5),
            "pr/train/experiment": JobResult("pr/train/experiment", "experiment", "skipped")}
    assert console.results_table(jobs).splitlines() == [
        "job                  result    time",
        "pr/train/plan        success     2.5 s",
        "pr/train/experiment  skipped     0.0 s"]
