"""The package's instruction-set check (python/cpu_check_module.cpp): on a CPU without a
feature the build uses, `import driftrec` raises ImportError naming what is missing and the
rebuild option, and the interpreter goes on (the extension's own check would end it)."""

import subprocess
import sys
import textwrap

import driftrec
from driftrec import _cpu_check


def test_this_cpu_passes_and_the_build_features_are_named():
    assert _cpu_check.message() == ""
    names = _cpu_check.feature_names()
    assert "avx2" in names and "fma" in names
    build = _cpu_check.build_features()
    assert build < 1 << len(names)


def test_a_missing_feature_gets_a_message_naming_it_and_the_rebuild_option():
    names = _cpu_check.feature_names()
    avx2, fma = 1 << names.index("avx2"), 1 << names.index("fma")
    text = _cpu_check.message_for(avx2 | fma, avx2)
    assert "lacks fma" in text and "avx2" not in text.split("lacks")[1].split("(")[0]
    assert "-DDRIFTREC_ARCH=x86-64" in text and "-Ccmake.define.DRIFTREC_ARCH=x86-64" in text
    assert _cpu_check.message_for(avx2 | fma, avx2 | fma) == ""


def test_import_raises_import_error_and_the_interpreter_goes_on():
    # A stand-in for the check module that reports a missing feature, installed before the
    # package is imported: the package must raise, not exit, and must not load _driftrec.
    script = textwrap.dedent(
        """
        import importlib.util, sys, types
        spec = importlib.util.find_spec("driftrec")
        fake = types.ModuleType("driftrec._cpu_check")
        fake.message = lambda: "driftrec: this build was compiled for x86-64-v3 and this CPU lacks avx2\\n"
        sys.modules["driftrec._cpu_check"] = fake
        try:
            import driftrec
        except ImportError as e:
            print("ImportError:", e)
            print("extension loaded:", "driftrec._driftrec" in sys.modules)
        else:
            print("imported")
        """
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "ImportError: driftrec: this build was compiled for x86-64-v3 and this CPU lacks avx2" in run.stdout
    assert "extension loaded: False" in run.stdout
    assert driftrec.__version__
