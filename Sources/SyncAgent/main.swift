print("syncagent")
