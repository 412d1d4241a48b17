# Reference numbers for tests/reference/test_survey_api.py.
# Produced with R 4.2.2 and survey 4.1.1 (Debian bookworm packages r-base-core, r-cran-survey):
#   Rscript survey_api_reference.R > survey_api_reference.Rout
# It also wrote apistrat.csv, apiclus1.csv and apiclus2.csv (subsets of columns of survey's own
# `api` data, California Academic Performance Index, data(api) in R survey; Lumley 2010).
# GLMs use glm.control(epsilon = 1e-14) so that the reference is fully converged (R's default
# 1e-8 leaves differences in the 6th digit; the published outputs are checked at printed precision).
suppressMessages(library(survey))
data(api)
options(digits = 12)
cols <- c("cds","stype","snum","dnum","api00","api99","enroll","api.stu","meals","ell","mobility","sch.wide","comp.imp","pw","fpc")
write.csv(apistrat[, cols], "apistrat.csv", row.names = FALSE)
write.csv(apiclus1[, cols], "apiclus1.csv", row.names = FALSE)
write.csv(apiclus2[, c("cds","stype","snum","dnum","api00","api99","enroll","meals","ell","mobility","sch.wide","pw","fpc1","fpc2")], "apiclus2.csv", row.names = FALSE)
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
cat("## dstrat mean api00, deff replace\n"); print(svymean(~api00, dstrat, deff = "replace"))
cat("## dstrat total enroll, deff replace\n"); print(svytotal(~enroll, dstrat, deff = "replace"))
cat("## dclus1 mean api00, deff replace\n"); print(svymean(~api00, dclus1, deff = "replace"))
cat("## dclus1 confint mean api00 on design df\n"); print(confint(svymean(~api00, dclus1), df = degf(dclus1)))
cat("## dclus1 total enroll, deff replace\n"); print(svytotal(~enroll, dclus1, deff = "replace"))
cat("## dclus1 ratio api.stu/enroll\n"); r <- svyratio(~api.stu, ~enroll, dclus1); print(coef(r)); print(SE(r))
cat("## dclus1 svyby mean api00 by stype, deff replace\n"); print(svyby(~api00, ~stype, dclus1, svymean, deff = "replace"))
cat("## dclus1 degf of stype subsets\n"); for (s in c("E","H","M")) print(degf(subset(dclus1, stype == s)))
cat("## dclus1 svyciprop logit stype==E\n"); p <- svyciprop(~I(stype == "E"), dclus1, method = "logit", df = degf(dclus1)); print(coef(p)); print(SE(p)); print(confint(p))
cat("## dclus1 svyglm gaussian\n"); print(coef(summary(svyglm(api00 ~ ell + meals + mobility, design = dclus1))))
cat("## dstrat svyglm gaussian\n"); print(coef(summary(svyglm(api00 ~ ell + meals + mobility, design = dstrat))))
cat("## dclus1 svyglm logit\n"); print(coef(summary(svyglm(sch.wide ~ ell + meals + mobility, design = dclus1, family = quasibinomial(), control = ctl))))
cat("## dstrat svyglm logit\n"); print(coef(summary(svyglm(sch.wide ~ ell + meals + mobility, design = dstrat, family = quasibinomial(), control = ctl))))
cat("## dclus1 svyglm probit\n"); print(coef(summary(svyglm(sch.wide ~ ell + meals + mobility, design = dclus1, family = quasibinomial(link = "probit"), control = ctl))))
rclus1 <- as.svrepdesign(dclus1)
rstrat <- as.svrepdesign(dstrat, type = "JKn")
cat("## rclus1 (JK1) mean api00\n"); print(svymean(~api00, rclus1))
cat("## rclus1 (JK1) svyby mean api00 by stype\n"); print(svyby(~api00, ~stype, rclus1, svymean))
cat("## rstrat (JKn) mean api00\n"); print(svymean(~api00, rstrat))
cat("## rclus1 (JK1) svyglm logit\n"); print(coef(summary(svyglm(sch.wide ~ ell + meals + mobility, design = rclus1, family = quasibinomial(), control = ctl))))
cat("## lonely PSU: apiclus1 stratified so that district 637 is alone in its stratum\n")
a <- apiclus1; a$st <- ifelse(a$dnum == 637, "A", ifelse(a$dnum < 400, "B", "C"))
for (rule in c("adjust", "certainty", "remove")) {
  options(survey.lonely.psu = rule)
  d <- svydesign(id = ~dnum, strata = ~st, weights = ~pw, data = a, nest = TRUE)
  cat("# rule", rule, "\n"); print(svymean(~api00, d))
}
