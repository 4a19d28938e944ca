"""The Python API: configure, run, compare, predict and export from a notebook or a script.

    import fmri_rdm as fr
    cfg = fr.config("model=rsa", experiment="demo", logger="none")
    result = fr.run(cfg)
    result.folds_frame()

Each function lives in its own module and is imported on first use (`fmri_rdm.__getattr__`),
so `import fmri_rdm` loads neither torch nor Hydra.
"""
