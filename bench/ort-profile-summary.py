"""Sums an ONNX Runtime profile (the JSON that SessionOptions.enableProfiling writes) by operator type.

usage: python3 bench/ort-profile-summary.py PROFILE.json
Profiles come from OrtOptionsProbe's prof= option (docs/performance.md, "Where the time goes").
"""
import json,sys,collections
ev=json.load(open(sys.argv[1]))
t=collections.Counter(); n=collections.Counter()
tot=0
for e in ev:
    if e.get('cat')=='Node' and e['name'].endswith('_kernel_time'):
        op=e['args'].get('op_name'); t[op]+=e['dur']; n[op]+=1
    if e.get('cat')=='Session' and e['name']=='model_run': tot+=e['dur']
s=sum(t.values())
print('model_run total ms', tot/1e3, 'kernel sum ms', s/1e3)
for op,d in t.most_common(): print(f'{op:30s} {d/1e3:9.1f} ms {100*d/s:5.1f}% n={n[op]}')
